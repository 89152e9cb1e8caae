/**
 * Time-outs on a watermark (ARCHITECTURE.md "Time"): the same readings delivered live, as a
 * backlog one reading at a time in event-time order, and as per-device arrays give the same
 * incidents; a device's own late readings close its own time-outs and a chunked backlog does
 * not open and close one offline incident per chunk. Also: incident revisions, a group that
 * lists exactly the children that point to it, and a child's cause that follows its group.
 */
import { describe, expect, it } from 'vitest';
import type { Incident, IncidentEvent } from '../incident.schema.ts';
import { defaultPolicy as policy } from '../policy.ts';
import type { Reading } from '../reading.ts';
import { HEALTHY_METER, MIN, T0, fixtureCity } from './city.fixture.ts';
import { RulesEngine } from './engine.ts';

const city = fixtureCity({ buildingsPerStation: 3 }); // b1, b2, b3 (4 of 18 cold: no station group); apartments b1-1-101 … b1-1-302, living + bed1 sensors
const COLD_B1 = ['b1-1-101', 'b1-1-102', 'b1-1-201']; // 3 of 6 (≥ buildingColdShare 0.3, ≥ minMonitored 3)
const IN_HOME = 'b2-1-101';
const WINDOW = 's-b2-1-302-living';
const DEAD = 's-b2-1-202-living';
const END = 240;

function temp(sensor: string, m: number): number | undefined {
  const apt = sensor.replace(/^s-/, '').replace(/-(living|bed1)$/, '');
  if (sensor === DEAD && m > 60) return undefined;
  if (COLD_B1.includes(apt) && m >= 30) return 15;
  if (apt === IN_HOME && m >= 30) return 16;
  if (sensor === WINDOW && m >= 90 && m < 120) return 13; // §E.5: an open window, back within 2 h
  return 21;
}

/** Every reading of the scenario, in event-time order (meters first within a minute). */
function readings(): Reading[] {
  const out: Reading[] = [];
  for (let m = 0; m <= END; m += 5) {
    for (const d of city.devices) {
      const ts = T0 + m * MIN;
      if (d.kind === 'station_meter')
        out.push({ deviceId: d.id, kind: 'station_meter', ts, fields: { ...HEALTHY_METER }, stationId: d.stationId });
      else if (m % 10 === 0) {
        const t = temp(d.id, m);
        if (t !== undefined) out.push({ deviceId: d.id, kind: 'room_sensor', ts, fields: { temp: t, bat: 3 }, roomId: d.roomId });
      }
    }
  }
  return out;
}

/** Feeds readings the way the ingest's rules runner does: time-outs due before a reading fire first. */
class Runner {
  readonly engine = new RulesEngine({ city, policy });
  readonly events: IncidentEvent[] = [];
  #w = Number.NEGATIVE_INFINITY;
  advance(ts: number): void {
    if (ts <= this.#w) return;
    this.#w = ts;
    this.events.push(...this.engine.advanceTo(ts));
  }
  feed(rs: readonly Reading[]): this {
    for (const r of rs) {
      this.advance(r.ts - 1);
      this.events.push(...this.engine.ingest(r));
    }
    return this;
  }
  /** Last state of every incident ever raised, keyed by kind and subject. */
  final(): string[] {
    const last = new Map<string, Incident>();
    for (const e of this.events) last.set(e.incident.id, e.incident);
    return [...last.values()]
      .map(
        (i) =>
          `${i.kind} ${i.subjectId} ${i.status} cause=${i.cause}${i.parentId ? ` parent=${i.parentId.split(':').slice(0, 2).join(':')}` : ''}${i.children ? ` children=${i.children.join(',')}` : ''}`,
      )
      .sort();
  }
}

const EXPECTED = [
  'apartment_cold b1-1-101 open cause=building parent=building_cold:b1',
  'apartment_cold b1-1-102 open cause=building parent=building_cold:b1',
  'apartment_cold b1-1-201 open cause=building parent=building_cold:b1',
  `apartment_cold ${IN_HOME} open cause=in_home`,
  'building_cold b1 open cause=building children=b1-1-101,b1-1-102,b1-1-201',
  `sensor_offline ${DEAD} open cause=not_a_fault`,
];
// The clock moves on after the data (a quiet stream): past every due time-out and the catch-up grace.
const QUIET_END = T0 + (END + 5) * MIN;

describe('one stream, three deliveries (watermark)', () => {
  const all = readings();

  it('live: time-outs follow event time tick by tick', () => {
    const live = new Runner();
    for (let m = 0; m <= END; m += 5) {
      live.feed(all.filter((r) => r.ts === T0 + m * MIN));
      live.advance(T0 + m * MIN);
    }
    live.advance(QUIET_END);
    expect(live.final()).toEqual(EXPECTED);
    const dead = live.events.find((e) => e.incident.kind === 'sensor_offline')!;
    expect((dead.at - T0) / MIN).toBe(60 + policy.sensors.offlineAfterIntervals * 10); // 3 × 10 min after its last reading
  });

  it('a backlog one reading per message in event-time order opens exactly what live opens', () => {
    const r = new Runner().feed(all);
    r.advance(QUIET_END);
    expect(r.final()).toEqual(EXPECTED);
  });

  it('a backlog of per-device arrays (each device whole, one after the other) opens exactly what live opens', () => {
    const r = new Runner();
    for (const d of city.devices) r.feed(all.filter((x) => x.deviceId === d.id));
    r.advance(QUIET_END);
    expect(r.final()).toEqual(EXPECTED);
    // The dead sensor's incident starts at its last reading, whatever the delivery.
    const dead = r.events.find((e) => e.incident.kind === 'sensor_offline')!;
    expect((dead.incident.startTs - T0) / MIN).toBe(60);
  });
});

describe("a device's own late readings", () => {
  const sensor = 's-b1-1-101-living';
  const r = (id: string, m: number): Reading => ({
    deviceId: id,
    kind: 'room_sensor',
    ts: T0 + m * MIN,
    fields: { temp: 21 },
    roomId: id.slice(2),
  });
  const others = city.devices.filter((d) => d.kind === 'room_sensor' && d.id !== sensor).map((d) => d.id);
  const othersAt = (m: number) => others.map((id) => r(id, m));

  it('close its time-out, and the chunks of its backlog do not each open one', () => {
    const run = new Runner();
    for (let m = 0; m <= 600; m += 10) run.feed([...othersAt(m), ...(m <= 100 ? [r(sensor, m)] : [])]);
    expect(run.final().filter((x) => x.includes(sensor))).toEqual([`sensor_offline ${sensor} open cause=not_a_fault`]);
    // Its gateway comes back with three chunks of backlog while the rest is at minute 600.
    for (const [from, to] of [
      [110, 300],
      [310, 450],
      [460, 600],
    ] as const) {
      const chunk: Reading[] = [];
      for (let m = from; m <= to; m += 10) chunk.push(r(sensor, m));
      run.feed(chunk);
      run.advance(T0 + 600 * MIN);
    }
    const mine = run.events.filter((e) => e.incident.subjectId === sensor);
    expect(
      mine.map(
        (e) => `${e.type} start=${(e.incident.startTs - T0) / MIN}${e.incident.endTs ? ` end=${(e.incident.endTs - T0) / MIN}` : ''}`,
      ),
    ).toEqual(['opened start=100', 'resolved start=100 end=110']);
  });

  it('a real gap inside a backlog is reported as it would have been live (opened and resolved)', () => {
    const run = new Runner();
    for (let m = 0; m <= 400; m += 10) run.feed(othersAt(m));
    const backlog: Reading[] = [];
    for (let m = 0; m <= 400; m += 10) if (m <= 100 || m >= 200) backlog.push(r(sensor, m));
    run.feed(backlog);
    const mine = run.events.filter((e) => e.incident.subjectId === sensor);
    expect(mine.map((e) => `${e.type} start=${(e.incident.startTs - T0) / MIN} at=${(e.at - T0) / MIN}`)).toEqual([
      'opened start=100 at=130',
      'resolved start=100 at=200',
    ]);
  });
});

describe('incident events are complete and consistent', () => {
  it('every event is a new revision; a group lists exactly the children that point to it, resolved ones too', () => {
    const run = new Runner();
    // b1: four apartments cold from minute 0; one recovers at minute 200.
    const cold = ['b1-1-101', 'b1-1-102', 'b1-1-201', 'b1-1-202'];
    for (let m = 0; m <= 300; m += 10) {
      const rs: Reading[] = [];
      for (const d of city.devices) {
        if (d.kind !== 'room_sensor') continue;
        const apt = d.roomId!.replace(/-(living|bed1)$/, '');
        const t = cold.includes(apt) && !(apt === 'b1-1-202' && m >= 200) ? 15 : 21;
        rs.push({ deviceId: d.id, kind: 'room_sensor', ts: T0 + m * MIN, fields: { temp: t }, roomId: d.roomId });
      }
      run.feed(rs);
    }
    const byId = new Map<string, number[]>();
    for (const e of run.events) byId.set(e.incident.id, [...(byId.get(e.incident.id) ?? []), e.incident.revision!]);
    for (const revs of byId.values()) expect(revs).toEqual(revs.map((_, i) => i + 1));

    const last = new Map<string, Incident>();
    for (const e of run.events) last.set(e.incident.id, e.incident);
    const group = [...last.values()].find((i) => i.kind === 'building_cold')!;
    const pointing = [...last.values()].filter((i) => i.parentId === group.id).map((i) => i.subjectId);
    expect(group.children).toEqual(pointing);
    expect(group.children).toEqual(cold);
    const recovered = [...last.values()].find((i) => i.subjectId === 'b1-1-202')!;
    expect(recovered.status).toBe('resolved');
    // A child's cause follows its group, whatever was decided at its opening.
    for (const i of last.values()) if (i.parentId === group.id) expect(i.cause).toBe(group.cause);
  });
});
