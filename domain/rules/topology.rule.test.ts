/**
 * A registry change reaches the running engine (RulesEngine.withTopology): a device added
 * while it runs raises incidents at once, state of the devices it kept carries over, and an
 * incident whose subject left the topology is resolved rather than left open forever.
 */
import { describe, expect, it } from 'vitest';
import type { City } from '../topology.schema.ts';
import { defaultPolicy as policy } from '../policy.ts';
import { MIN, T0, fixtureCity } from './city.fixture.ts';
import { RulesEngine } from './engine.ts';

const full = fixtureCity({ meters: false });
const NEW = 's-b1-1-101-living';
const without = (c: City, id: string): City => ({ ...c, devices: c.devices.filter((d) => d.id !== id) });
const reading = (id: string, m: number, temp: number) => ({
  deviceId: id,
  kind: 'room_sensor' as const,
  ts: T0 + m * MIN,
  fields: { temp },
  roomId: id.slice(2),
});

describe('live topology', () => {
  it('a device provisioned while the engine runs counts from its first reading', () => {
    let engine = new RulesEngine({ city: without(full, NEW), policy });
    expect(engine.ingest(reading(NEW, 0, 21))).toEqual([]);
    engine.advanceTo(T0 + 100 * MIN);
    expect(engine.openIncidents()).toEqual([]); // unknown: ignored, never offline
    engine = engine.withTopology(full).engine;
    engine.ingest(reading(NEW, 110, 21));
    engine.advanceTo(T0 + 200 * MIN);
    expect(engine.openIncidents().map((i) => `${i.kind} ${i.subjectId}`)).toEqual([`sensor_offline ${NEW}`]);
  });

  it('an incident whose device was disabled or deleted is resolved as retired', () => {
    let engine = new RulesEngine({ city: full, policy });
    engine.ingest(reading(NEW, 0, 21));
    engine.advanceTo(T0 + 60 * MIN);
    expect(engine.openIncidents().map((i) => i.subjectId)).toEqual([NEW]);
    const next = engine.withTopology(without(full, NEW));
    engine = next.engine;
    expect(next.events.map((e) => `${e.type} ${e.incident.subjectId} retired=${String(e.incident.evidence.retired)}`)).toEqual([
      `resolved ${NEW} retired=true`,
    ]);
    expect(engine.openIncidents()).toEqual([]);
  });
});
