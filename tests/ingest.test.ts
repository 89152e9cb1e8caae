/**
 * Ingest integration: real broker (createBrokerApp), real influxd, mosquitto_pub as the
 * device, an MQTT.js subscriber as the API. A reading published by a device appears in
 * InfluxDB with its registry location as tags, is pushed on the live topic and handed to the
 * rules; bad readings land in the dead-letter store with their reason.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { systemClock } from '../domain/clock.ts';
import type { LiveReading } from '../domain/events.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import type { Reading } from '../domain/reading.ts';
import { topics } from '../domain/topics.ts';
import { createIngestApp, type IngestApp } from '../ingest/app.ts';
import type { RulesPort } from '../ingest/rules.port.ts';
import { fixServiceSecret, fixDeviceSecret, seedFixtureRegistry, sensorId } from '../ingest/testing.fixture.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { DeadLetterRepository } from '../storage/readings/dead-letter.repository.ts';
import { InfluxStore } from '../storage/readings/influx.store.ts';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.ts';
import { waitFor } from './harness/ports.ts';

const run = promisify(execFile);
const logger = pino({ level: 'silent' });

/** A rules engine stand-in that records what it was handed and opens one incident. */
class RecordingRules implements RulesPort {
  readonly seen: Reading[] = [];
  ingest(r: Reading): IncidentEvent[] {
    this.seen.push(r);
    if (r.fields.temp !== undefined && r.fields.temp < 10) {
      return [
        {
          type: 'opened',
          at: r.ts,
          incident: {
            id: `apartment_cold:${r.apartmentId}:${r.ts}`,
            kind: 'apartment_cold',
            subjectType: 'apartment',
            subjectId: r.apartmentId ?? '',
            status: 'open',
            startTs: r.ts,
            severity: 'major',
          } as IncidentEvent['incident'],
        },
      ];
    }
    return [];
  }
  advanceTo(): IncidentEvent[] {
    return [];
  }
  snapshot(): unknown {
    return { n: this.seen.length };
  }
}

describe('ingest: device → broker → ingest → InfluxDB', () => {
  let dir: string;
  let registry: RegistryRepository;
  let broker: BrokerApp;
  let influxd: InfluxdHandle;
  let store: InfluxStore;
  let deadLetters: DeadLetterRepository;
  let ingest: IngestApp;
  let api: MqttClient;
  let port: number;
  const rules = new RecordingRules();
  /** Calls of the store's downsampled-hours flush made by the ingest's upkeep timer. */
  let flushes = 0;
  const live: LiveReading[] = [];
  const incidents: IncidentEvent[] = [];

  const pub = (device: string, payload: string, topic = topics.telemetry(device)) =>
    run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-i',
      device,
      '-u',
      device,
      '-P',
      fixDeviceSecret(device),
      '-q',
      '1',
      '-t',
      topic,
      '-m',
      payload,
    ]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingest-it-'));
    registry = seedFixtureRegistry(dir, 60);
    [influxd, broker] = await Promise.all([startInfluxd(), createBrokerApp({ registry, logger, persistenceDir: join(dir, 'broker') })]);
    ({ mqttPort: port } = await broker.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' }));
    const url = `mqtt://127.0.0.1:${port}`;
    store = await InfluxStore.open({ url: influxd.url, db: 'heat' });
    deadLetters = new DeadLetterRepository(registry.db);
    api = await mqtt.connectAsync(url, {
      clientId: 'svc-api-test',
      username: 'svc-api',
      password: fixServiceSecret('svc-api'),
      protocolVersion: 4,
    });
    await api.subscribeAsync([topics.live, topics.incidents], { qos: 1 });
    api.on('message', (topic, payload) => {
      if (topic === topics.live) live.push(...(JSON.parse(payload.toString()) as LiveReading[]));
      else incidents.push(JSON.parse(payload.toString()) as IncidentEvent);
    });
    // The real store, with its upkeep call counted.
    const counted = new Proxy(store, {
      get(target, key) {
        if (key === 'flushDownsampled') {
          return async () => {
            flushes++;
            return target.flushDownsampled();
          };
        }
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    ingest = createIngestApp({
      config: { dataDir: dir, city: 'beijing' },
      registry,
      store: counted,
      options: { downsampleFlushEveryMs: 100 },
      deadLetters,
      logger,
      clock: systemClock,
      mqtt: { url, clientId: 'svc-ingest', username: 'svc-ingest', password: fixServiceSecret('svc-ingest') },
      rules,
    });
    await ingest.start();
  });

  afterAll(async () => {
    await ingest?.stop();
    await api?.endAsync(true);
    await broker?.close();
    await influxd?.stop();
    registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a reading published with mosquitto_pub, tagged with its registry location', async () => {
    const ts = Date.now() - 60_000;
    await pub(sensorId(4), JSON.stringify({ ts, temp: 21.5, rh: 41, bat: 3.1, rssi: -70 }));
    await waitFor(async () => (await store.count({ deviceId: sensorId(4) })) === 1, { what: 'reading in influxd' });
    const j = (await influxd.query(`SELECT * FROM raw.room WHERE device = '${sensorId(4)}'`, 'heat')) as {
      results: { series: { columns: string[]; values: unknown[][] }[] }[];
    };
    const s = j.results[0]!.series[0]!;
    const row = Object.fromEntries(s.columns.map((c, i) => [c, s.values[0]![i]]));
    expect(row).toMatchObject({
      device: sensorId(4),
      room: 'r-4',
      apartment: 'a-1',
      building: 'b-0',
      station: 'st-1',
      office: 'of-1',
      temp: 21.5,
      rh: 41,
    });
    expect(Date.parse(row.time as string)).toBe(ts);
    await waitFor(() => live.some((l) => l.deviceId === sensorId(4)), { what: 'live reading' });
    expect(live.find((l) => l.deviceId === sensorId(4))).toMatchObject({
      kind: 'room_sensor',
      ts,
      apartmentId: 'a-1',
      fields: { temp: 21.5 },
    });
    expect(rules.seen.some((r) => r.deviceId === sensorId(4) && r.ts === ts)).toBe(true);
  });

  it('stores the good elements of a batch, dead-letters the bad one with its reason', async () => {
    const t = Date.now() - 10 * 60_000;
    const batch = [
      { ts: t, temp: 20 },
      { ts: t + 60_000, temp: 99 }, // room −40…60 °C (policy.validation)
      { ts: new Date(t + 120_000).toISOString(), temp: 20.5 },
    ];
    await pub(sensorId(7), JSON.stringify(batch));
    await waitFor(async () => (await store.count({ deviceId: sensorId(7) })) === 2, { what: 'two good readings' });
    await waitFor(() => ingest.metrics().rejected.out_of_range === 1, { what: 'rejection counted' });
    const dl = deadLetters.list({ deviceId: sensorId(7) });
    expect(dl).toHaveLength(1);
    expect(dl[0]).toMatchObject({ reason: 'out_of_range', topic: topics.telemetry(sensorId(7)) });
    expect(JSON.parse(dl[0]!.raw)).toEqual(batch[1]);
  });

  it('hands readings to the rules in event-time order per device and publishes incidents (QoS 1)', async () => {
    const t = Date.now() - 30 * 60_000;
    // A backlog delivered newest first still reaches the rules oldest first.
    const backlog = [3, 2, 1, 0].map((k) => ({ ts: t + k * 60_000, temp: 5 + k }));
    await pub(sensorId(10), JSON.stringify(backlog));
    await waitFor(() => rules.seen.filter((r) => r.deviceId === sensorId(10)).length === 4, { what: 'rules fed' });
    const ts = rules.seen.filter((r) => r.deviceId === sensorId(10)).map((r) => r.ts);
    expect(ts).toEqual([0, 1, 2, 3].map((k) => t + k * 60_000));
    await waitFor(() => incidents.length >= 4, { what: 'incidents on MQTT' });
    expect(incidents[0]).toMatchObject({ type: 'opened', incident: { kind: 'apartment_cold', subjectId: 'a-3' } });
  });

  it('rejects telemetry of a device the registry does not know (validation by registry, not payload)', async () => {
    const sim = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: 'svc-sim-t',
      username: 'svc-sim',
      password: fixServiceSecret('svc-sim'),
      protocolVersion: 4,
    });
    await sim.publishAsync(topics.telemetry('ghost-1'), JSON.stringify({ ts: Date.now(), temp: 20 }), { qos: 1 });
    await sim.publishAsync(topics.telemetry(sensorId(11)), 'not json', { qos: 1 });
    await sim.endAsync();
    await waitFor(() => ingest.metrics().rejected.unknown_device === 1 && ingest.metrics().rejected.bad_json === 1, { what: 'rejections' });
    expect(deadLetters.list({ reason: 'unknown_device' })[0]).toMatchObject({ deviceId: 'ghost-1' });
    expect(deadLetters.list({ reason: 'bad_json' })[0]).toMatchObject({ raw: 'not json', deviceId: sensorId(11) });
    expect(deadLetters.countByReason()).toMatchObject({ unknown_device: 1, bad_json: 1, out_of_range: 1 });
  });

  it('brings a late backlog reading into the hourly (season) series by its periodic flush', async () => {
    // Older than the continuous query's window: only the store's stale-hour flush counts it.
    const hour = Math.floor((Date.now() - 5 * 3_600_000) / 3_600_000) * 3_600_000;
    await pub(sensorId(31), JSON.stringify({ ts: hour + 600_000, temp: 17.25 }));
    await waitFor(async () => (await store.count({ deviceId: sensorId(31) })) === 1, { what: 'late reading in influxd' }).catch(
      (e: unknown) => {
        throw new Error(`${String(e)} ${JSON.stringify(ingest.metrics())}`);
      },
    );
    const before = flushes;
    const hourly = async () => {
      const j = (await influxd.query(`SELECT * FROM season.room_1h WHERE device = '${sensorId(31)}' AND time = ${hour}ms`, 'heat')) as {
        results: { series?: { columns: string[]; values: unknown[][] }[] }[];
      };
      const s = j.results[0]?.series?.[0];
      return s ? Object.fromEntries(s.columns.map((c, i) => [c, s.values[0]![i]])) : undefined;
    };
    await waitFor(async () => flushes > before && (await hourly()) !== undefined, {
      timeoutMs: 20_000,
      what: 'hour recomputed by the flush',
    });
    expect(await hourly()).toMatchObject({ count_temp: 1, sum_temp: 17.25, min_temp: 17.25, max_temp: 17.25 });
  });
});
