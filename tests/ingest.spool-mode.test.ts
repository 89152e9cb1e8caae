/**
 * Spool mode (issue 19): the broker appends device telemetry to the ingest's spool and sends
 * the PUBACK only once that write is durable; the ingest reads the spool, not an MQTT session.
 * Real broker (createBrokerApp), mosquitto_pub and MQTT.js as devices, the embedded store.
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
import { topics } from '../domain/topics.ts';
import { createIngestApp, type IngestApp } from '../ingest/app.ts';
import { fixDeviceSecret, fixServiceSecret, seedFixtureRegistry, sensorId } from '../ingest/testing.fixture.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { DeadLetterRepository } from '../storage/readings/dead-letter.repository.ts';
import { EmbeddedStore } from '../storage/readings/embedded.store.ts';
import { SpoolReader } from '../storage/spool/spool.reader.ts';
import { waitFor } from './harness/ports.ts';

const run = promisify(execFile);
const logger = pino({ level: 'silent' });
const BOUND = 40;

describe('spool mode: broker → durable spool → ingest', () => {
  let dir: string;
  let registry: RegistryRepository;
  let broker: BrokerApp;
  let store: EmbeddedStore;
  let ingest: IngestApp | undefined;
  let url: string;
  let port: number;
  let api: MqttClient;
  const live: LiveReading[] = [];
  const base = Date.now() - 3_600_000;

  const newIngest = () =>
    createIngestApp({
      config: { dataDir: dir, city: 'beijing' },
      registry,
      store,
      deadLetters: new DeadLetterRepository(registry.db),
      logger,
      clock: systemClock,
      mqtt: { url, clientId: 'svc-ingest', username: 'svc-ingest', password: fixServiceSecret('svc-ingest') },
      options: { batchAgeMs: 10 },
      feed: 'spool',
    });
  const device = (i: number) =>
    mqtt.connectAsync(url, {
      clientId: sensorId(i),
      username: sensorId(i),
      password: fixDeviceSecret(sensorId(i)),
      protocolVersion: 4,
      clean: true,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spool-mode-'));
    registry = seedFixtureRegistry(dir, 20);
    broker = await createBrokerApp({
      registry,
      logger,
      persistenceDir: join(dir, 'broker'),
      telemetrySpool: { dataDir: dir, sync: 'full', maxMessages: BOUND },
    });
    ({ mqttPort: port } = await broker.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' }));
    url = `mqtt://127.0.0.1:${port}`;
    store = EmbeddedStore.open(join(dir, 'embedded'));
    api = await mqtt.connectAsync(url, {
      clientId: 'svc-api-test',
      username: 'svc-api',
      password: fixServiceSecret('svc-api'),
      protocolVersion: 4,
    });
    await api.subscribeAsync(topics.live, { qos: 0 });
    api.on('message', (_t, payload) => live.push(...(JSON.parse(payload.toString()) as LiveReading[])));
  }, 60_000);

  afterAll(async () => {
    await api?.endAsync(true);
    await ingest?.stop();
    await broker?.close();
    await store?.close();
    registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a PUBACK comes only after the message is durable in the spool; nothing goes through an MQTT session', async () => {
    const d = await device(0);
    const reader = SpoolReader.open(dir);
    for (let k = 0; k < 5; k++) {
      await d.publishAsync(topics.telemetry(sensorId(0)), JSON.stringify({ ts: base + k * 60_000, temp: 21 }), { qos: 1 });
      // At the PUBACK the writer has already declared it committed (after its fdatasync).
      expect(reader.committed()).toBe(k + 1);
    }
    expect(reader.read(10).map((e) => JSON.parse(e.payload.toString()).ts)).toEqual([0, 1, 2, 3, 4].map((k) => base + k * 60_000));
    reader.close();
    await d.endAsync();
    const m = broker.metrics();
    expect(m.messagesOut).toBe(0); // no delivery to anyone, no queue entry for the ingest
    expect(m.queueDepth).toBe(0);
    expect(m.telemetrySpool).toMatchObject({ spooled: 5, backlog: 5, parked: 0, writeErrors: 0 });
  });

  it('the ingest reads the spool: readings stored with their location, live fan-out, spool trimmed', async () => {
    ingest = newIngest();
    await ingest.start();
    // A device as Debian's client, QoS 1.
    await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-i',
      sensorId(1),
      '-u',
      sensorId(1),
      '-P',
      fixDeviceSecret(sensorId(1)),
      '-q',
      '1',
      '-t',
      topics.telemetry(sensorId(1)),
      '-m',
      JSON.stringify({ ts: base, temp: 19.5 }),
    ]);
    await waitFor(async () => (await store.count({ kind: 'room_sensor' })) === 6, { timeoutMs: 20_000, what: '6 readings stored' });
    const [r] = await store.latest({ deviceId: sensorId(1) });
    expect(r).toMatchObject({
      deviceId: sensorId(1),
      roomId: 'r-1',
      apartmentId: 'a-0',
      buildingId: 'b-0',
      stationId: 'st-1',
      fields: { temp: 19.5 },
    });
    await waitFor(() => live.some((l) => l.deviceId === sensorId(1)), { what: 'live reading' });
    expect(ingest.metrics()).toMatchObject({ messages: 6, readingsStored: 6, misrouted: 0 });
    await waitFor(() => (broker.metrics().telemetrySpool?.backlog ?? -1) === 0, { timeoutMs: 5_000, what: 'broker sees the spool stored' });
  });

  it(`at the bound (${BOUND} unstored) publishes wait without a PUBACK; once the ingest stores, every one lands, in each device's order`, async () => {
    await ingest!.stop();
    ingest = undefined;
    const devices = await Promise.all([2, 3].map(device));
    const reader = SpoolReader.open(dir); // one segment (no restart): the trims delete nothing here
    const acked: number[] = [];
    const sent: Promise<unknown>[] = [];
    const per = 30; // 60 messages, BOUND 40
    for (let k = 0; k < per; k++) {
      for (const [j, d] of devices.entries()) {
        sent.push(
          d
            .publishAsync(topics.telemetry(sensorId(2 + j)), JSON.stringify({ ts: base + k * 60_000, temp: 20 + k / 100 }), { qos: 1 })
            .then(() => acked.push(k)),
        );
      }
    }
    await waitFor(() => acked.length >= BOUND, { timeoutMs: 10_000, what: `${BOUND} acked` });
    await new Promise((r) => setTimeout(r, 500));
    expect(acked.length).toBe(BOUND);
    expect(broker.metrics().telemetrySpool?.parked).toBeGreaterThan(0);
    ingest = newIngest();
    await ingest.start();
    await Promise.all(sent);
    await waitFor(async () => (await store.count({ kind: 'room_sensor' })) === 6 + 2 * per, { timeoutMs: 20_000, what: 'all stored' });
    // Per-device order: the spool holds each device's readings in the order they were sent.
    const spooled = reader.read(1000).map((e) => ({ topic: e.topic, ts: (JSON.parse(e.payload.toString()) as { ts: number }).ts }));
    reader.close();
    expect(spooled).toHaveLength(2 * per);
    for (const j of [0, 1]) {
      const ts = spooled.filter((e) => e.topic === topics.telemetry(sensorId(2 + j))).map((e) => e.ts);
      expect(ts).toEqual(Array.from({ length: per }, (_, k) => base + k * 60_000));
      expect(await store.count({ deviceId: sensorId(2 + j) })).toBe(per);
    }
    await Promise.all(devices.map((d) => d.endAsync()));
  });
});
