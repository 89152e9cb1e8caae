/**
 * Issue 17: a store stall longer than 1.5 × keepalive must not disconnect the devices. In
 * spool mode the broker parks a device's telemetry at the spool bound and withholds its PUBACK
 * until the store catches up; aedes then read nothing more from that connection, so the
 * device's PINGREQ went unanswered and the device (and the broker's keepalive timer) dropped
 * the connection (broker/patches/read-while-parked.patch.ts).
 * Real broker and ingest (spool mode, bound 5), the embedded store behind a gate that holds
 * every write for 20 s, and a real MQTT.js device with keepalive 5 s publishing 30 readings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { systemClock } from '../domain/clock.ts';
import { topics } from '../domain/topics.ts';
import { createIngestApp, type IngestApp } from '../ingest/app.ts';
import { fixDeviceSecret, fixServiceSecret, seedFixtureRegistry, sensorId } from '../ingest/testing.fixture.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { DeadLetterRepository } from '../storage/readings/dead-letter.repository.ts';
import { EmbeddedStore } from '../storage/readings/embedded.store.ts';
import type { ReadingStore } from '../storage/readings/reading-store.ts';
import { waitFor } from './harness/ports.ts';

const logger = pino({ level: 'silent' });
const BOUND = 5;
const READINGS = 30;
const STALL_MS = 20_000;

describe('a store stall longer than the keepalive (spool mode)', () => {
  let dir: string;
  let registry: RegistryRepository;
  let broker: BrokerApp | undefined;
  let ingest: IngestApp | undefined;
  let store: EmbeddedStore | undefined;
  let device: MqttClient | undefined;

  afterAll(async () => {
    await device?.endAsync(true);
    await ingest?.stop();
    await broker?.close();
    await store?.close();
    registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the device stays connected (its pings answered) and all its readings are acked in order after the stall', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keepalive-stall-'));
    registry = seedFixtureRegistry(dir, 4);
    store = EmbeddedStore.open(join(dir, 'embedded'));
    // The store stalls: every write waits for the gate (then goes to the real store).
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const real = store;
    const stalled = Object.assign(Object.create(real) as ReadingStore, {
      write: async (...a: Parameters<ReadingStore['write']>) => {
        await gate;
        return real.write(...a);
      },
    });
    broker = await createBrokerApp({
      registry,
      logger,
      persistenceDir: join(dir, 'broker'),
      telemetrySpool: { dataDir: dir, sync: 'full', maxMessages: BOUND },
    });
    const { mqttPort } = await broker.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' });
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    ingest = createIngestApp({
      config: { dataDir: dir, city: 'beijing' },
      registry,
      store: stalled,
      deadLetters: new DeadLetterRepository(registry.db),
      logger,
      clock: systemClock,
      mqtt: { url, clientId: 'svc-ingest', username: 'svc-ingest', password: fixServiceSecret('svc-ingest') },
      options: { batchAgeMs: 10, batchSize: 2 },
      feed: 'spool',
    });
    await ingest.start();

    const id = sensorId(0);
    device = await mqtt.connectAsync(url, {
      clientId: id,
      username: id,
      password: fixDeviceSecret(id),
      protocolVersion: 4,
      keepalive: 5,
      reconnectPeriod: 0,
    });
    let closed = 0;
    let pingresps = 0;
    device.on('close', () => closed++);
    device.on('packetreceive', (p) => void (p.cmd === 'pingresp' && pingresps++));
    const acked: number[] = [];
    const base = Date.now() - 3_600_000;
    const sends = Array.from({ length: READINGS }, (_, k) =>
      device!.publishAsync(topics.telemetry(id), JSON.stringify({ ts: base + k * 1000, temp: 20 + k / 100 }), { qos: 1 }).then(() => {
        acked.push(k);
      }),
    );

    const started = Date.now();
    await waitFor(() => broker!.metrics().telemetrySpool?.parked, { what: 'a publish parked at the bound' });
    while (Date.now() - started < STALL_MS) {
      await new Promise((r) => setTimeout(r, 1000));
      expect(closed, `connection closed ${Date.now() - started} ms into the stall`).toBe(0);
    }
    // Four keepalive periods: pinged and answered, nothing past the bound acknowledged.
    expect(device.connected).toBe(true);
    expect(pingresps).toBeGreaterThanOrEqual(2);
    expect(acked.length).toBeLessThanOrEqual(BOUND);
    expect(acked).toEqual(acked.map((_, i) => i));

    open(); // the store is back
    await Promise.all(sends);
    expect(acked).toEqual(Array.from({ length: READINGS }, (_, k) => k)); // every one, in order
    expect(closed).toBe(0);
    await waitFor(async () => (await real.count({ deviceId: id })) === READINGS, { timeoutMs: 20_000, what: 'all readings stored' });
  }, 60_000);
});
