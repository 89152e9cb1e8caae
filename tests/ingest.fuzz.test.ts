/**
 * Fuzz: a seeded stream of malformed and good telemetry through the real broker into the
 * ingest — random bytes, deep JSON, huge arrays, wrong types, unicode, NaN/Infinity, batches
 * mixing good and bad elements. The ingest never crashes, counts every bad element (and keeps
 * it as a dead letter) and stores every good one, exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { DAY_MS, HOUR_MS, systemClock } from '../domain/clock.ts';
import { defaultPolicy } from '../domain/policy.ts';
import { mulberry32 } from '../domain/random.ts';
import { topics } from '../domain/topics.ts';
import { createIngestApp, type IngestApp } from '../ingest/app.ts';
import { fixServiceSecret, METER_ID, seedFixtureRegistry, sensorId } from '../ingest/testing.fixture.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { DeadLetterRepository } from '../storage/readings/dead-letter.repository.ts';
import { EmbeddedStore } from '../storage/readings/embedded.store.ts';
import { waitFor } from './harness/ports.ts';

const logger = pino({ level: 'silent' });
const MESSAGES = 3000;
const SENSORS = 50;

interface Case {
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly good: number;
  readonly bad: number;
}

function generate(seed: number, now: number): Case[] {
  const r = mulberry32(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const nextTs = new Map<string, number>();
  const base = now - DAY_MS;
  // Every good reading gets its own (device, ts), so "stored" can be counted exactly.
  const ts = (dev: string) => {
    const t = nextTs.get(dev) ?? base;
    nextTs.set(dev, t + 1000);
    return t;
  };
  const goodRoom = (dev: string) => ({ ts: ts(dev), temp: Math.round((15 + r() * 10) * 10) / 10, rh: int(100), bat: 3, rssi: -int(120) });
  const goodMeter = () => ({ ts: new Date(ts(METER_ID)).toISOString(), secondarySupplyTemp: 50 + int(20), pumpHz: 40, valvePct: int(100) });
  const badElement = (dev: string): unknown =>
    pick([
      { ts: ts(dev), temp: '21.5' }, // wrong_type
      { ts: ts(dev), temp: null },
      { ts: ts(dev), temp: true },
      { ts: ts(dev), temp: [20] },
      { ts: ts(dev), temp: { v: 20 } },
      { ts: ts(dev), temp: 61 }, // out_of_range (policy room −40…60 °C)
      { ts: ts(dev), temp: -40.5 },
      { ts: ts(dev), temp: 20, rh: 101 },
      { ts: now + 10 * 60_000, temp: 20 }, // future_timestamp (> maxFutureSkewMin)
      { ts: now - (defaultPolicy.validation.maxBacklogHours + 1) * HOUR_MS, temp: 20 }, // too_old
      { ts: 'yesterday', temp: 20 }, // bad_timestamp
      { ts: '2026-13-45T99:99:99Z', temp: 20 },
      { temp: 20 }, // no timestamp
      { ts: ts(dev) }, // no fields
      { ts: ts(dev), 温度: 20 }, // unknown field (unicode)
      { ts: ts(dev), temp: 20, '🔥': 1 },
      { ts: ts(dev), temp: 20, ['__proto__']: 1 }, // an own "__proto__" key, not a prototype
      'a string',
      42,
      null,
      [{ ts: ts(dev), temp: 20 }], // nested array
    ]);
  const cases: Case[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const dev = sensorId(int(SENSORS));
    const tp = topics.telemetry(dev);
    const kind = int(16);
    switch (kind) {
      case 0:
      case 1:
      case 2:
        cases.push({ topic: tp, payload: JSON.stringify(goodRoom(dev)), good: 1, bad: 0 });
        break;
      case 3: {
        const n = 1 + int(20);
        cases.push({ topic: tp, payload: JSON.stringify(Array.from({ length: n }, () => goodRoom(dev))), good: n, bad: 0 });
        break;
      }
      case 4: {
        // A batch mixing good and bad elements: only the bad ones are rejected.
        const els: unknown[] = [];
        let good = 0;
        let bad = 0;
        for (let k = 0, n = 2 + int(30); k < n; k++) {
          if (r() < 0.5) {
            els.push(goodRoom(dev));
            good++;
          } else {
            els.push(badElement(dev));
            bad++;
          }
        }
        cases.push({ topic: tp, payload: JSON.stringify(els), good, bad });
        break;
      }
      case 5: {
        // Random bytes; the leading 0xFF is never valid UTF-8 JSON, so this is one bad message.
        const b = Buffer.alloc(1 + int(4000));
        for (let k = 0; k < b.length; k++) b[k] = int(256);
        b[0] = 0xff;
        cases.push({ topic: tp, payload: b, good: 0, bad: 1 });
        break;
      }
      case 6: {
        const depth = 1000 + int(30_000); // ≤ 180 kB: under the broker's maxPacketBytes
        const p = r() < 0.5 ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
        cases.push({ topic: tp, payload: p, good: 0, bad: 1 });
        break;
      }
      case 7: {
        // More than maxBatchReadings elements: the whole message is rejected once.
        const n = defaultPolicy.validation.maxBatchReadings + 1 + int(2000);
        cases.push({
          topic: tp,
          payload: JSON.stringify(Array.from({ length: n }, (_, k) => ({ ts: base + k, temp: 20 }))),
          good: 0,
          bad: 1,
        });
        break;
      }
      case 8: {
        // A bad batch element on its own; the nested-array one is, at top level, a good batch.
        const el = badElement(dev);
        const ok = Array.isArray(el) ? 1 : 0;
        cases.push({ topic: tp, payload: JSON.stringify(el) ?? 'undefined', good: ok, bad: 1 - ok });
        break;
      }
      case 9:
        cases.push({
          topic: tp,
          payload: pick([
            `{"ts":${base},"temp":NaN}`,
            `{"ts":${base},"temp":Infinity}`,
            `{"ts":${base},"temp":1e999}`,
            `{"ts":${base},"temp":-1e999}`,
            `{"ts":${base},"temp":21.5`,
            '',
            'null',
            '[]',
            'true',
            '"温度"',
            '\u0000\u0001',
            '{"ts":' + base + ',"temp":20}garbage',
          ]),
          good: 0,
          bad: 1,
        });
        break;
      case 10:
        cases.push({ topic: topics.telemetry('ghost-' + int(5)), payload: JSON.stringify(goodRoom('ghost')), good: 0, bad: 1 });
        break;
      case 11:
        cases.push({ topic: topics.telemetry('sen-disabled'), payload: JSON.stringify(goodRoom('sen-disabled')), good: 0, bad: 1 });
        break;
      case 12:
        cases.push({ topic: topics.telemetry(METER_ID), payload: JSON.stringify(goodMeter()), good: 1, bad: 0 });
        break;
      case 13:
        // A room sensor's fields on a station meter: validation follows the registry's kind.
        cases.push({ topic: topics.telemetry(METER_ID), payload: JSON.stringify({ ts: base, temp: 20 }), good: 0, bad: 1 });
        break;
      case 14:
        cases.push({
          topic: tp,
          payload: JSON.stringify({ ts: ts(dev), temp: 20, note: 'x'.repeat(10_000 + int(100_000)) }),
          good: 0,
          bad: 1,
        });
        break;
      default:
        cases.push({ topic: tp, payload: JSON.stringify({ ...goodRoom(dev), extra: { deeply: { nested: [1, 2, 3] } } }), good: 0, bad: 1 });
    }
  }
  return cases;
}

describe('ingest fuzz: malformed telemetry', () => {
  let dir: string;
  let registry: RegistryRepository;
  let broker: BrokerApp;
  let store: EmbeddedStore;
  let deadLetters: DeadLetterRepository;
  let ingest: IngestApp;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingest-fuzz-'));
    registry = seedFixtureRegistry(dir, SENSORS);
    broker = await createBrokerApp({ registry, logger });
    const { mqttPort } = await broker.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' });
    url = `mqtt://127.0.0.1:${mqttPort}`;
    store = EmbeddedStore.open(dir);
    deadLetters = new DeadLetterRepository(registry.db);
    ingest = createIngestApp({
      config: { dataDir: dir, city: 'beijing' },
      registry,
      store,
      deadLetters,
      logger,
      clock: systemClock,
      mqtt: { url, clientId: 'svc-ingest', username: 'svc-ingest', password: fixServiceSecret('svc-ingest') },
    });
    await ingest.start();
  });

  afterAll(async () => {
    await ingest?.stop();
    await broker?.close();
    await store?.close();
    registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never crashes, counts every bad element, stores every good one', async () => {
    const cases = generate(20261127, Date.now());
    const good = cases.reduce((n, c) => n + c.good, 0);
    const bad = cases.reduce((n, c) => n + c.bad, 0);
    expect(good).toBeGreaterThan(1000);
    expect(bad).toBeGreaterThan(1000);

    const sim = await mqtt.connectAsync(url, {
      clientId: 'svc-sim-fuzz',
      username: 'svc-sim',
      password: fixServiceSecret('svc-sim'),
      protocolVersion: 4,
    });
    for (let i = 0; i < cases.length; i += 100) {
      await Promise.all(cases.slice(i, i + 100).map((c) => sim.publishAsync(c.topic, c.payload, { qos: 1 })));
    }
    await sim.endAsync();

    await waitFor(() => ingest.metrics().readingsStored + ingest.metrics().rejectedTotal >= good + bad, {
      timeoutMs: 30_000,
      what: `all fuzz input processed (good ${good}, bad ${bad}): ${JSON.stringify(ingest.metrics())}`,
    });
    const m = ingest.metrics();
    expect({ stored: await store.count(), dead: deadLetters.count() }).toEqual({ stored: good, dead: bad });
    expect(m.connected).toBe(true);
    expect(m.readingsStored).toBe(good);
    expect(m.rejectedTotal).toBe(bad);
    expect(Object.values(m.rejected).reduce((a, b) => a + b, 0)).toBe(bad);
    expect(await store.count()).toBe(good);
    expect(deadLetters.count()).toBe(bad);
    // Every reason seen is one of the documented ones, with the raw payload kept (truncated).
    expect(Object.keys(m.rejected).sort()).toEqual(
      expect.arrayContaining([
        'bad_json',
        'bad_shape',
        'batch_too_large',
        'future_timestamp',
        'too_old',
        'unknown_device',
        'device_disabled',
        'unknown_field',
        'wrong_type',
        'out_of_range',
      ]),
    );
    expect(deadLetters.list({ limit: 1000 }).every((d) => d.raw.length <= 2049)).toBe(true);
  });
});
