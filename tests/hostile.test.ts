/**
 * Issue 9, hostile input: a seeded fuzz pass over
 *  - MQTT telemetry payloads (random bytes, deep JSON, huge arrays, wrong types, unicode,
 *    NaN/Infinity, injection strings, prototype-pollution keys), published by a device and by
 *    the replay service account: the ingest rejects each with a counted reason, stores nothing,
 *    and keeps working (a valid marker published afterwards is stored);
 *  - every REST route of the running API (enumerated from its OpenAPI document), its path
 *    params, query and body, as a logged-in admin: never a 5xx, never a stack trace, every
 *    mutating request a 4xx with a clear JSON message, and no table of records.db changes.
 *    Reads may answer 200 to a well-formed filter, but an injection string never widens the
 *    result (it must come back empty).
 * Inputs are designed to be invalid (each mutating body carries at least one value of the
 * wrong type), so "nothing stored" is exact.
 */
import type Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { mulberry32 } from '../domain/random.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, connectPublisher } from './harness/load.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { waitFor } from './harness/ports.ts';
import mqtt from 'mqtt';

let p: TestPlatform;
let token: string;
let svc: MqttClient;
let device: MqttClient;
let deviceId: string;

const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE devices; --",
  '" OR ""="',
  "x' UNION SELECT password_hash FROM people --",
  '1; DROP MEASUREMENT room',
  '\'; DROP DATABASE heat; SELECT * FROM "raw"."room" WHERE \'1\'=\'1',
  '/.*/',
  '${process.exit()}',
  '{{constructor.constructor("return process")()}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00%27%22',
  '\u0000\u0001\u001f',
  '😀𝕳𝖊𝖆𝖙\u202e\uffff',
  '__proto__',
  'constructor',
  'prototype',
];

const HUGE = 'A'.repeat(200_000);

/** Tables of records.db and their row counts. */
function rowCounts(db: Database.Database): Record<string, number> {
  const names = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]
  ).map((r) => r.name);
  return Object.fromEntries(names.map((n) => [n, (db.prepare(`SELECT COUNT(*) AS n FROM "${n}"`).get() as { n: number }).n]));
}

beforeAll(async () => {
  p = await startTestPlatform({ fleetSpeed: false, ingestOptions: { batchAgeMs: 20 } });
  token = await login(p.httpUrl, 'admin', p.config.adminPassword!);
  deviceId = p.registry.listDevices({ kind: 'room_sensor', limit: 1 })[0]!.id;
  svc = await connectPublisher(p.mqttUrl, p.serviceSecrets['svc-sim'], 'hostile');
  device = await mqtt.connectAsync(p.mqttUrl, {
    clientId: deviceId,
    username: deviceId,
    password: p.deviceSecrets.get(deviceId)!,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
}, 120_000);

afterAll(async () => {
  await svc?.endAsync(true).catch(() => undefined);
  await device?.endAsync(true).catch(() => undefined);
  await p?.stop();
});

function mqttPayloads(): (string | Buffer)[] {
  const r = mulberry32(9001);
  const now = Date.now();
  const out: (string | Buffer)[] = [];
  // Random bytes of random lengths.
  for (let i = 0; i < 40; i++) out.push(Buffer.from(Array.from({ length: 1 + Math.floor(r() * 2000) }, () => Math.floor(r() * 256))));
  // Deep JSON (arrays and objects).
  out.push('['.repeat(50_000) + ']'.repeat(50_000));
  out.push('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000));
  out.push('['.repeat(100_000)); // unterminated
  // Huge arrays: past the backlog bound, and of junk.
  out.push(JSON.stringify(Array.from({ length: 1001 }, (_, i) => ({ ts: now - i * 1000, temp: 20 }))));
  out.push(JSON.stringify(Array.from({ length: 20_000 }, () => 0)));
  out.push('[]');
  out.push('{}');
  out.push('');
  // Wrong types and non-finite numbers.
  for (const temp of ['20', true, null, [20], { v: 20 }, '', 'NaN']) out.push(JSON.stringify({ ts: now, temp }));
  out.push(`{"ts":${now},"temp":NaN}`);
  out.push(`{"ts":${now},"temp":Infinity}`);
  out.push(`{"ts":${now},"temp":-Infinity}`);
  out.push(`{"ts":${now},"temp":1e999}`);
  out.push(`{"ts":${now},"temp":-1e999}`);
  out.push(JSON.stringify({ ts: now, temp: 1e308 }));
  out.push(JSON.stringify({ ts: now, temp: -273.16 }));
  // Bad timestamps.
  for (const ts of [-1, 0.5e-300, 1e20, 'yesterday', '', null, now + 86_400_000, now - 400 * 86_400_000, [now], { $gt: 0 }])
    out.push(JSON.stringify({ ts, temp: 20 }));
  // Injection strings as values, field names and timestamps.
  for (const s of INJECTIONS) {
    out.push(JSON.stringify({ ts: s, temp: 20 }));
    out.push(JSON.stringify({ ts: now, temp: s }));
    out.push(JSON.stringify({ ts: now, [s]: 20 }));
  }
  // Prototype pollution.
  out.push(`{"__proto__":{"temp":20,"polluted":true},"ts":${now}}`);
  out.push(`{"constructor":{"prototype":{"polluted":true}},"ts":${now}}`);
  out.push(`[{"__proto__":{"ts":${now},"temp":20}}]`);
  // Huge strings (under the broker's packet limit).
  out.push(JSON.stringify({ ts: now, temp: HUGE }));
  out.push(JSON.stringify({ ts: now, [HUGE]: 20 }));
  // Unicode noise and invalid UTF-8.
  out.push('{"ts":' + now + ',"temp":"\ud800"}');
  out.push(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]));
  return out;
}

describe('hostile MQTT payloads', () => {
  it('are each rejected with a counted reason, store nothing, and the ingest keeps working', async () => {
    const before = await p.store.count();
    const rejectedBefore = p.ingest.metrics().rejectedTotal;
    const payloads = mqttPayloads();
    const topic = `heat/v1/devices/${deviceId}/telemetry`;
    for (const m of payloads) await publishAcked(svc, topic, m as string);
    // The ingest still works: a valid marker, published after everything else, is stored
    // (the spool is processed in order, so every payload before it has been judged).
    const marker = Date.now() - 5000;
    await publishAcked(svc, topic, JSON.stringify({ ts: marker, temp: 20.25 }));
    await waitFor(async () => (await p.store.count()) > before && p.ingest.metrics().rejectedTotal - rejectedBefore >= payloads.length, {
      timeoutMs: 60_000,
      what: 'marker stored and every hostile message judged',
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}; ingest metrics ${JSON.stringify(p.ingest.metrics())}, ${payloads.length} payloads`);
    });
    expect(await p.store.count()).toBe(before + 1);
    const latest = await p.store.latest({ deviceId });
    expect(latest[0]).toMatchObject({ deviceId, ts: marker, fields: { temp: 20.25 } });
    // One counted rejection per hostile message (each holds at most one bad element).
    expect(p.ingest.metrics().rejectedTotal - rejectedBefore).toBe(payloads.length);

    // The same payloads from the device itself (its own credentials): the broker may cut it
    // off for flooding; either way nothing is stored and the platform stays up.
    for (const m of payloads) if (device.connected) await publishAcked(device, topic, m as string).catch(() => undefined);
    const marker2 = marker + 1000;
    await publishAcked(svc, topic, JSON.stringify({ ts: marker2, temp: 20.5 }));
    await waitFor(async () => (await p.store.count()) > before + 1, { timeoutMs: 60_000, what: 'second marker stored' });
    expect(await p.store.count()).toBe(before + 2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const health = await fetch(`${p.httpUrl}/api/v1/health`);
    expect(health.status).toBe(200);
  }, 120_000);
});

interface Route {
  method: string;
  path: string;
  params: string[];
  query: Record<string, { type?: string }>;
  body?: { properties?: Record<string, { type?: string }>; required?: string[] };
}

async function routes(): Promise<Route[]> {
  const doc = (await (await fetch(`${p.httpUrl}/api/docs/json`)).json()) as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: { in: string; name: string; schema?: { type?: string } }[];
          requestBody?: { content?: Record<string, { schema?: Route['body'] }> };
        }
      >
    >;
  };
  const out: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = (op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name);
      const query = Object.fromEntries((op.parameters ?? []).filter((x) => x.in === 'query').map((x) => [x.name, x.schema ?? {}]));
      out.push({ method: method.toUpperCase(), path, params, query, body: op.requestBody?.content?.['application/json']?.schema });
    }
  }
  return out;
}

/** A value that matches none of the JSON types a property may declare. */
function wrongType(t: string | undefined): unknown {
  return t === 'object' ? 'not-an-object' : t === 'array' ? { $ne: null } : { $gt: '' };
}

function hostileValue(r: () => number): unknown {
  const pool: unknown[] = [
    ...INJECTIONS,
    HUGE.slice(0, 70_000),
    '',
    -1,
    0,
    2 ** 53 + 1,
    -1e308,
    1e308,
    true,
    null,
    [],
    {},
    [[[[[[]]]]]],
    { __proto__: { polluted: true } },
    'NaN',
    'Infinity',
    '2026-13-45T99:99:99Z',
  ];
  return pool[Math.floor(r() * pool.length)];
}

/** Bodies for a route: junk of every JSON type, deep and huge documents, and schema-shaped bodies with one wrong type. */
function bodies(route: Route, r: () => number): { raw: string; note: string }[] {
  const out: { raw: string; note: string }[] = [
    { raw: 'null', note: 'null' },
    { raw: '[]', note: 'array' },
    { raw: '"x"', note: 'string' },
    { raw: '12345', note: 'number' },
    { raw: '{"a":', note: 'truncated' },
    { raw: '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}', note: 'prototype pollution' },
    { raw: '['.repeat(20_000) + ']'.repeat(20_000), note: 'deep array' },
    { raw: JSON.stringify({ x: 'y'.repeat(6 * 1024 * 1024) }), note: 'over the body limit' },
  ];
  const props = Object.entries(route.body?.properties ?? {});
  if (props.length) {
    for (let k = 0; k < 12; k++) {
      const body: Record<string, unknown> = {};
      for (const [name] of props) if (r() < 0.7) body[name] = hostileValue(r);
      // Guarantee invalidity: one required (or any) property of the wrong type.
      const required = route.body?.required?.length ? route.body.required : props.map(([n]) => n);
      const victim = required[Math.floor(r() * required.length)]!;
      body[victim] = wrongType(route.body?.properties?.[victim]?.type);
      out.push({ raw: JSON.stringify(body), note: `shaped, ${victim} wrong` });
    }
  }
  return out;
}

const hostileParams = [
  'does-not-exist-0000',
  "' OR '1'='1",
  '..%2F..%2Fetc%2Fpasswd',
  '__proto__',
  'constructor',
  'A'.repeat(5000),
  '%F0%9F%98%80%00',
  '-1',
  '0x10',
  '1e309',
];

interface Outcome {
  route: string;
  status: number;
  text: string;
}

async function call(method: string, url: string, body?: string, contentType = 'application/json'): Promise<Outcome> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await fetch(`${p.httpUrl}${url}`, { method, headers, body });
  return { route: `${method} ${url.slice(0, 120)}`, status: res.status, text: await res.text() };
}

/** A clear JSON error: { code, message }, no stack, no internals. */
function expectClearError(o: Outcome): void {
  expect(o.status, o.route).toBeGreaterThanOrEqual(400);
  expect(o.status, `${o.route} → ${o.text.slice(0, 300)}`).toBeLessThan(500);
  let j: { code?: unknown; message?: unknown };
  try {
    j = JSON.parse(o.text) as typeof j;
  } catch {
    throw new Error(`${o.route}: ${o.status} without a JSON body: ${o.text.slice(0, 200)}`);
  }
  expect(typeof j.message, o.route).toBe('string');
  expect((j.message as string).length, o.route).toBeGreaterThan(0);
}

function expectNoLeak(o: Outcome): void {
  expect(o.status, `${o.route} → ${o.text.slice(0, 300)}`).toBeLessThan(500);
  expect(o.text, o.route).not.toMatch(/\n\s+at \S+ \(|node_modules|\.ts:\d+|SQLITE_|SqliteError/);
}

describe('hostile REST input on every route', () => {
  it('is never a 5xx or a stack trace; every mutation is refused with a clear 4xx; nothing is stored', async () => {
    const list = (await routes()).filter((r) => r.path !== '/api/v1/auth/logout'); // logging out is valid for any body
    expect(list.length).toBeGreaterThan(20);
    const db = p.registry.db;
    const countsBefore = rowCounts(db);
    const r = mulberry32(4242);
    let requests = 0;
    for (const route of list) {
      const mutating = route.method !== 'GET' && route.method !== 'HEAD';
      const paths = route.params.length
        ? hostileParams.map((h) => route.path.replace(/\{[^}]+\}/g, encodeURIComponent(decodeURIComponent(h))))
        : [route.path];
      for (const path of paths) {
        // Path params alone (with an otherwise empty, invalid body for mutations).
        const o = await call(route.method, path, mutating ? '{"__proto__":{"x":1}}' : undefined);
        requests++;
        expectNoLeak(o);
        if (mutating || route.params.length) expectClearError(o);
      }
      // Query strings: injection strings, huge values, wrong types, repeated keys.
      for (const [name, schema] of Object.entries(route.query)) {
        for (const v of [...INJECTIONS, 'A'.repeat(10_000), '-1', '1e309', 'NaN', '[object Object]']) {
          const qs = `${encodeURIComponent(name)}=${encodeURIComponent(v)}&${encodeURIComponent(name)}=${encodeURIComponent(v)}x`;
          const o = await call(route.method, `${paths[0]}?${qs}`, mutating ? '[]' : undefined);
          requests++;
          expectNoLeak(o);
          if (mutating) expectClearError(o);
          else if (o.status === 200 && schema.type === 'string' && INJECTIONS.includes(v) && route.path.includes('{') === false) {
            // A filter that matched an injection string must not have widened the result.
            const j = JSON.parse(o.text) as unknown;
            const items = Array.isArray(j) ? j : ((j as { items?: unknown[] }).items ?? []);
            expect(items, `${o.route} widened by an injection`).toEqual([]);
          } else if (o.status >= 400) expectClearError(o);
        }
      }
      // Bodies.
      if (mutating) {
        for (const b of bodies(route, r)) {
          const o = await call(route.method, paths[0]!, b.raw);
          requests++;
          expectNoLeak(o);
          expectClearError(o);
        }
        const wrongMedia = await call(route.method, paths[0]!, '<xml/>', 'application/xml');
        expectNoLeak(wrongMedia);
        expectClearError(wrongMedia);
      }
    }
    expect(requests).toBeGreaterThan(200);
    expect(rowCounts(db)).toEqual(countsBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(p.api.heat.metrics().http5xx).toBe(0);
    const health = await fetch(`${p.httpUrl}/api/v1/health`);
    expect(health.status).toBe(200);
  }, 240_000);
});
