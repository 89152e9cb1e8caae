/**
 * Incident events from the real rules engine reach the API whole (issue 14): updates that
 * share an event time with the opening (a group forms and its children move under it at the
 * same instant) are applied, not counted as duplicates; a redelivery is; the stored group
 * lists exactly the apartments whose incidents point to it, and their cause follows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident, IncidentEvent } from '../domain/incident.schema.ts';
import { policyForCity } from '../domain/policy.ts';
import { RulesEngine } from '../domain/rules/engine.ts';
import { startTestApi, T0, testCity, type TestApi } from './api-fixture.ts';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.close();
});

describe('incident events from the engine, through the API', () => {
  it('applies every update, ignores redeliveries, and keeps parents and children consistent', async () => {
    const { city } = testCity();
    const engine = new RulesEngine({ city, policy: policyForCity('beijing') });
    const events: IncidentEvent[] = [];
    // Building b1 (4 apartments, one sensor each): three cold from the start, the fourth warm.
    // That is 3 of station s1's 8 monitored apartments: the station group.
    for (let m = 0; m <= 120; m += 10) {
      for (const a of ['b1-a11', 'b1-a12', 'b1-a21', 'b1-a22']) {
        const temp = a === 'b1-a22' ? 21 : 15;
        events.push(
          ...engine.ingest({ deviceId: `rs-${a}`, kind: 'room_sensor', ts: T0 + m * 60_000, fields: { temp }, roomId: `${a}-r1` }),
        );
      }
      events.push(...engine.advanceTo(T0 + m * 60_000));
    }
    const group = events.find((e) => e.incident.kind === 'station_cold');
    expect(group).toBeDefined();
    // Some updates share the opening's event time: they are new states all the same.
    expect(events.some((e) => e.type === 'updated' && e.at === group!.at)).toBe(true);

    const before = t.app.heat.metrics().incidentDuplicates ?? 0;
    for (const e of events) t.app.heat.onIncidentMessage(e);
    expect(t.app.heat.metrics().incidentDuplicates).toBe(before);
    for (const e of events) t.app.heat.onIncidentMessage(e); // QoS 1 redelivery of everything
    expect(t.app.heat.metrics().incidentDuplicates).toBe(before + events.length);

    const res = await t.req('GET', '/api/v1/incidents?status=open', 'dispatcher');
    expect(res.statusCode).toBe(200);
    const open = res.json<Incident[]>();
    const g = open.find((i) => i.kind === 'station_cold')!;
    const pointing = open
      .filter((i) => i.parentId === g.id)
      .map((i) => i.subjectId)
      .sort();
    expect([...g.children!].sort()).toEqual(pointing);
    expect(pointing).toEqual(['b1-a11', 'b1-a12', 'b1-a21']);
    for (const i of open.filter((x) => x.parentId === g.id)) expect(i.cause).toBe(g.cause);
    // The API holds the engine's last state of every incident.
    const last = new Map<string, Incident>();
    for (const e of events) last.set(e.incident.id, e.incident);
    for (const i of open) expect(i).toEqual(last.get(i.id));
  });
});
