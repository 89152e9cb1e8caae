/**
 * A quiet platform (issue 14): one room sensor and nothing else — no demo fleet, no other
 * traffic. It reports with Debian's mosquitto_pub and its own credentials, then goes silent.
 * Its sensor_offline incident must reach the API within 1.5× its threshold of wall time (the
 * watermark follows the clock, not other traffic), and resolve when it reports again.
 *
 * Wall time on purpose: the point is that nothing but the clock moves time on. The shortest
 * threshold the policy allows is 3 min (DeviceSchema: intervalMin ≥ 1; §E.5:
 * offlineAfterIntervals = 3), so the test takes about four minutes, most of it idle.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../domain/incident.schema.ts';
import { defaultPolicy } from '../domain/policy.ts';
import type { City } from '../domain/topology.schema.ts';
import { topics } from '../domain/topics.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { waitFor } from './harness/ports.ts';

const run = promisify(execFile);
const SENSOR = 'rs-quiet-1';
const SECRET = 'quiet-sensor-secret-0001';
const INTERVAL_MIN = 1;
const THRESHOLD_MS = INTERVAL_MIN * defaultPolicy.sensors.offlineAfterIntervals * 60_000; // §E.5: 3 × 1 min

const loc = { lat: 39.9, lon: 116.4 };
const city: City = {
  seed: 0,
  name: 'quiet',
  policyCity: 'beijing',
  sources: [{ id: 'src-q', name: 'CHP', location: loc }],
  offices: [{ id: 'off-q', name: 'Office' }],
  stations: [{ id: 'st-q', name: 'Station', officeId: 'off-q', sourceId: 'src-q', branchId: 'br-q', location: loc, system: 'radiator' }],
  buildings: [
    { id: 'b-q', name: 'Building', stationId: 'st-q', address: '1 Quiet Road', location: loc, floors: 1, entrances: 1, unitsPerFloor: 1 },
  ],
  apartments: [{ id: 'a-q', buildingId: 'b-q', entrance: 1, floor: 1, unit: 1, number: '1-101', areaM2: 60 }],
  rooms: [{ id: 'a-q-living', apartmentId: 'a-q', name: 'Living room', type: 'living', areaM2: 20 }],
  devices: [{ id: SENSOR, kind: 'room_sensor', roomId: 'a-q-living', intervalMin: INTERVAL_MIN, enabled: true }],
};

let p: TestPlatform;
let token: string;
beforeAll(async () => {
  p = await startTestPlatform({ demo: false, fleetSpeed: false, city: { city, secrets: new Map([[SENSOR, SECRET]]) } });
  token = await login(p.httpUrl, 'admin', 'admin-test-password');
}, 120_000);
afterAll(async () => {
  await p?.stop();
});

const publish = (ts: number) =>
  run('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(p.ports.mqtt),
    '-i',
    SENSOR,
    '-u',
    SENSOR,
    '-P',
    SECRET,
    '-q',
    '1',
    '-t',
    topics.telemetry(SENSOR),
    '-m',
    JSON.stringify({ ts, temp: 21.2 }),
  ]);

const offline = async (): Promise<Incident | undefined> => {
  const r = await fetch(`${p.httpUrl}/api/v1/incidents?kind=sensor_offline`, { headers: { authorization: `Bearer ${token}` } });
  return ((await r.json()) as Incident[]).find((i) => i.subjectId === SENSOR);
};

describe('quiet platform: one sensor, nothing else', () => {
  it(
    'reports a silent sensor offline within 1.5× its threshold of wall time, and resolves it when it returns',
    async () => {
      // Three readings a minute apart would take three minutes; two are enough to be "seen".
      await publish(Date.now() - 60_000);
      await publish(Date.now());
      const lastTs = Date.now();
      await publish(lastTs);
      const silentSince = Date.now();

      const inc = await waitFor(offline, { timeoutMs: 1.5 * THRESHOLD_MS + 10_000, intervalMs: 1000, what: 'sensor_offline in the API' });
      const tookMs = Date.now() - silentSince;
      expect(tookMs).toBeGreaterThanOrEqual(THRESHOLD_MS);
      expect(tookMs).toBeLessThanOrEqual(1.5 * THRESHOLD_MS);
      expect(inc).toMatchObject({ status: 'open', startTs: lastTs, apartmentId: 'a-q' });

      // Nothing else was raised on the quiet platform.
      const all = (await (
        await fetch(`${p.httpUrl}/api/v1/incidents`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as Incident[];
      expect(all.map((i) => `${i.kind}:${i.subjectId}`)).toEqual([`sensor_offline:${SENSOR}`]);

      const back = Date.now();
      await publish(back);
      const resolved = await waitFor(
        async () => {
          const i = await offline();
          return i?.status === 'resolved' ? i : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 500, what: 'sensor_offline resolved' },
      );
      expect(resolved.endTs).toBe(back);
    },
    8 * 60_000,
  );
});
