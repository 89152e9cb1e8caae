/**
 * Issue 2, the thin real path: a device provisioned over the API publishes with Debian's
 * mosquitto_pub (a peer we did not write) → broker authenticates it → ingest validates and
 * stores in a real influxd → the API serves it. Wrong credentials are refused and store
 * nothing; malformed payloads are counted and dead-lettered while the readings around
 * them are stored.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { waitFor } from './harness/ports.ts';

const run = promisify(execFile);

let influx: InfluxdHandle;
let p: TestPlatform;
let token: string;
let deviceId: string;
let secret: string;

const api = async (path: string, init: RequestInit = {}) => {
  const r = await fetch(`${p.httpUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

/** mosquitto_pub at QoS 1; resolves with exit code and output (never throws). */
async function mosquittoPub(id: string, password: string, payload: string, topic = `heat/v1/devices/${id}/telemetry`) {
  try {
    const r = await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(p.ports.mqtt),
      '-V',
      'mqttv311',
      '-i',
      id,
      '-u',
      id,
      '-P',
      password,
      '-q',
      '1',
      '-t',
      topic,
      '-m',
      payload,
    ]);
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

const influxCount = async (device: string) => {
  const j = (await influx.query(`SELECT COUNT("temp") FROM "raw"."room" WHERE "device" = '${device}'`, 'heat')) as {
    results: { series?: { values: [string, number][] }[] }[];
  };
  return j.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
};

beforeAll(async () => {
  influx = await startInfluxd();
  p = await startTestPlatform({ influxUrl: influx.url, fleetSpeed: false, ingestOptions: { batchAgeMs: 50 } });
  token = await login(p.httpUrl, 'engineer', 'heatwatch-demo');
  const room = p.registry.listRooms()[0]!;
  deviceId = 'rs-e2e-0001';
  const created = await api('/api/v1/devices', {
    method: 'POST',
    body: JSON.stringify({ id: deviceId, kind: 'room_sensor', roomId: room.id, intervalMin: 10 }),
  });
  expect(created.status).toBe(201);
  secret = created.body.secret as string;
  expect(secret).toMatch(/^[A-Za-z0-9_-]{16,}$/);
});

afterAll(async () => {
  await p?.stop();
  await influx?.stop();
});

describe('a provisioned device publishing with mosquitto_pub', () => {
  it('is stored in influxd and served by the API', async () => {
    const ts = Date.now() - 1000;
    const r = await mosquittoPub(deviceId, secret, JSON.stringify({ ts, temp: 19.25, rh: 40, bat: 3.0 }));
    expect(r.code, r.out).toBe(0);
    await waitFor(async () => (await influxCount(deviceId)) === 1, { what: 'point in influxd' });
    const m = await api(`/api/v1/measurements?deviceId=${deviceId}`);
    expect(m.status).toBe(200);
    const latest = m.body.latest as { deviceId: string; ts: number; fields: Record<string, number> }[];
    expect(latest).toHaveLength(1);
    expect(latest[0]).toMatchObject({ deviceId, ts, fields: { temp: 19.25, rh: 40, bat: 3 } });
  });

  it('is refused with a wrong password (CONNACK not authorized) and stores nothing', async () => {
    const before = await influxCount(deviceId);
    const refusedBefore = p.broker.metrics();
    const r = await mosquittoPub(deviceId, 'wrong-password', JSON.stringify({ ts: Date.now(), temp: 5 }));
    expect(r.code).not.toBe(0);
    expect(r.out.toLowerCase()).toMatch(/not authori[sz]ed/);
    const unknown = await mosquittoPub('rs-nobody', 'whatever', JSON.stringify({ ts: Date.now(), temp: 5 }));
    expect(unknown.out.toLowerCase()).toMatch(/not authori[sz]ed/);
    expect(JSON.stringify(p.broker.metrics())).not.toEqual(JSON.stringify(refusedBefore));
    // Give a wrongly accepted message every chance to arrive before asserting it did not.
    const marker = Date.now() - 500;
    expect((await mosquittoPub(deviceId, secret, JSON.stringify({ ts: marker, temp: 20 }))).code).toBe(0);
    await waitFor(async () => (await influxCount(deviceId)) === before + 1, { what: 'marker point' });
    const j = (await influx.query(`SELECT "temp" FROM "raw"."room" WHERE "device" = '${deviceId}' AND "temp" = 5`, 'heat')) as {
      results: { series?: unknown[] }[];
    };
    expect(j.results[0]?.series).toBeUndefined();
  });

  it('rejects malformed payloads with a counted reason and stores the readings around them', async () => {
    const before = await influxCount(deviceId);
    const rejectedBefore = p.ingest.metrics().rejected;
    const t0 = Date.now() - 60_000;
    const payloads = [
      JSON.stringify({ ts: t0, temp: 18.5 }), // good
      'this is not json', // bad_json
      JSON.stringify({ ts: t0 + 1000, temp: 'warm' }), // wrong_type
      JSON.stringify({ ts: t0 + 2000, temp: 99 }), // out_of_range
      JSON.stringify([
        { ts: t0 + 3000, temp: 18.6 },
        { ts: t0 + 4000, temp: null },
        { ts: t0 + 5000, temp: 18.7 },
      ]), // 2 good, 1 bad
      JSON.stringify({ ts: t0 + 6000, temp: 18.8 }), // good
    ];
    for (const m of payloads) expect((await mosquittoPub(deviceId, secret, m)).code).toBe(0);
    // An unknown device's reading, sent through the replay service account (devices cannot).
    const ghost = await mosquittoPub(
      'svc-sim',
      p.serviceSecrets['svc-sim'],
      JSON.stringify({ ts: t0, temp: 18 }),
      'heat/v1/devices/rs-ghost/telemetry',
    );
    expect(ghost.code, ghost.out).toBe(0);

    await waitFor(async () => (await influxCount(deviceId)) === before + 4, { what: '4 good readings' });
    const rejected = await waitFor(
      () => {
        const r = p.ingest.metrics().rejected;
        const delta = (k: string) => (r[k] ?? 0) - (rejectedBefore[k] ?? 0);
        return delta('unknown_device') === 1
          ? { bad_json: delta('bad_json'), wrong_type: delta('wrong_type'), out_of_range: delta('out_of_range') }
          : undefined;
      },
      { what: 'unknown_device counted' },
    );
    expect(rejected.bad_json).toBe(1);
    expect(rejected.out_of_range).toBe(1);
    expect(rejected.wrong_type).toBeGreaterThanOrEqual(2); // "warm" and null
    const dl = await api('/api/v1/dead-letters');
    expect(dl.status).toBe(200);
    expect(JSON.stringify(dl.body.items)).toContain('this is not json');
    expect(Object.keys(dl.body.byReason as object)).toEqual(expect.arrayContaining(['bad_json', 'unknown_device', 'out_of_range']));
  });
});
