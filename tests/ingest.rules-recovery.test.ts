/**
 * Fault test: SIGKILL the ingest after readings were stored but before the rules state was
 * snapshotted (snapshots are periodic). The spool keeps stored readings until a snapshot
 * covers them, so the restarted ingest runs them through the restored engine again: the
 * rules end up having seen every reading, as if the ingest had never died.
 * Real parts: the broker (on-disk session), the ingest as its own process with the real
 * rules engine and the embedded store, MQTT.js clients.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { HOUR_MS } from '../domain/clock.ts';
import type { LiveReading } from '../domain/events.ts';
import { topics } from '../domain/topics.ts';
import { rulesSnapshotFile } from '../ingest/app.ts';
import { SpoolRepository } from '../ingest/spool.repository.ts';
import { FIX_SERVICE_SECRET, fixServiceSecret, publishStream, seedFixtureRegistry, sensorId } from '../ingest/testing.fixture.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { freePort, waitFor } from './harness/ports.ts';
import { serviceProcess, type ServiceProcess } from './harness/services.ts';

const DEVICES = 30;
const PER_DEVICE = 3;

describe('ingest: rules state survives a SIGKILL between snapshots', () => {
  let dir: string;
  let registry: RegistryRepository;
  let broker: BrokerApp;
  let url: string;
  let api: MqttClient;
  let ingest: ServiceProcess | undefined;
  const live: LiveReading[] = [];

  // INFLUX_URL empty: the embedded store. Rules on (the fixture city's engine). Ready once
  // "ingest started" is logged, which follows the SUBACK: published before it, a reading
  // would reach no one.
  const startIngest = async () => {
    const p: ServiceProcess = serviceProcess(
      'ingest',
      { DATA_DIR: dir, MQTT_URL: url, SERVICE_SECRET: FIX_SERVICE_SECRET, INFLUX_URL: '', LOG_LEVEL: 'info', INGEST_FEED: 'mqtt' },
      () => Promise.resolve(/ingest started/.test(p.log())),
    );
    ingest = p;
    await p.start();
  };
  const stopIngest = (signal: NodeJS.Signals) => ingest?.kill(signal) ?? Promise.resolve();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingest-rules-recovery-'));
    registry = seedFixtureRegistry(dir, DEVICES);
    const port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    broker = await createBrokerApp({ registry, logger: pino({ level: 'silent' }), persistenceDir: join(dir, 'broker') });
    await broker.listen({ mqttPort: port, wsPort: 0, host: '127.0.0.1' });
    api = await mqtt.connectAsync(url, {
      clientId: 'svc-api-recovery',
      username: 'svc-api',
      password: fixServiceSecret('svc-api'),
      protocolVersion: 4,
    });
    await api.subscribeAsync(topics.live, { qos: 0 });
    api.on('message', (_t, payload) => live.push(...(JSON.parse(payload.toString()) as LiveReading[])));
  });

  afterAll(async () => {
    await ingest?.kill('SIGKILL');
    await api?.endAsync(true);
    await broker?.close();
    registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-runs readings stored after the last snapshot through the restored engine', async () => {
    const baseTs = Date.now() - HOUR_MS;
    await startIngest();
    await publishStream({ url, devices: DEVICES, perDevice: PER_DEVICE, baseTs, connections: 2 });
    // Stored: the live fan-out (each device's newest reading of a write) follows each store write.
    const lastTs = baseTs + (PER_DEVICE - 1) * 60_000;
    await waitFor(() => new Set(live.filter((l) => l.ts === lastTs).map((l) => l.deviceId)).size === DEVICES, {
      timeoutMs: 60_000,
      what: 'every reading stored',
    });

    // Killed before its periodic snapshot (60 s): the readings are stored, the rules state is not.
    await stopIngest('SIGKILL');
    expect(existsSync(rulesSnapshotFile(dir))).toBe(false);
    // Nothing is waiting to be stored, yet the spool still holds the readings for the rules.
    expect(SpoolRepository.pending(dir)).toBe(0);

    await startIngest();
    expect(ingest!.log()).toMatch(/draining spool from previous run/);
    expect(ingest!.log()).toMatch(/"rulesOnly":90/);
    // One more reading after the restart, from device 0.
    await publishStream({ url, devices: 1, perDevice: PER_DEVICE + 1, baseTs, connections: 1 });
    await waitFor(() => live.some((l) => l.deviceId === sensorId(0) && l.ts === baseTs + PER_DEVICE * 60_000), {
      timeoutMs: 60_000,
      what: 'the new reading stored',
    }).catch((e: unknown) => {
      throw new Error(
        `${String(e)}\nbroker: ${JSON.stringify(broker.metrics())}\ningest log:\n${ingest!.log()}\nlive for device 0: ${JSON.stringify(live.filter((l) => l.deviceId === sensorId(0)))}`,
      );
    });
    // Every message of the resumed session was acknowledged (none left in flight at the broker).
    await waitFor(() => broker.metrics().queueDepth === 0, { timeoutMs: 10_000, what: 'session queue empty' });
    await stopIngest('SIGTERM');

    // The clean stop snapshots the engine: it has seen every device's readings, before and after the kill.
    const snap = JSON.parse(readFileSync(rulesSnapshotFile(dir), 'utf8')) as { lastTs: Record<string, number> };
    expect(snap.lastTs[sensorId(0)]).toBe(baseTs + PER_DEVICE * 60_000);
    for (let i = 1; i < DEVICES; i++) expect(snap.lastTs[sensorId(i)], sensorId(i)).toBe(baseTs + (PER_DEVICE - 1) * 60_000);
    // And the snapshot let the spool go.
    const again = SpoolRepository.open(dir);
    expect(again.all()).toHaveLength(0);
    await again.close();
  }, 120_000);
});
