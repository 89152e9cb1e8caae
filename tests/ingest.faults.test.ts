/**
 * Fault tests of the at-least-once chain, each with a stream of 100,000 readings from
 * simulated devices: SIGKILL the ingest process mid-stream and restart it; stop influxd for
 * 30 s mid-stream (the spool fills to its bound, the ingest stops acking, the broker holds the
 * rest); restart the broker mid-stream. After each, the number of points in InfluxDB equals
 * the number published — exactly (redelivered duplicates overwrite themselves).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { DAY_MS } from '../domain/clock.ts';
import { SpoolRepository } from '../ingest/spool.repository.ts';
import { FIX_SERVICE_SECRET, publishStream, seedFixtureRegistry } from '../ingest/testing.fixture.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.ts';
import { spawnIngest, type IngestProcess } from './harness/ingest-process.ts';
import { freePort, waitFor } from './harness/ports.ts';

const logger = pino({ level: 'silent' });
const DEVICES = 1000;
const PER_DEVICE = 100; // 100,000 readings
const TOTAL = DEVICES * PER_DEVICE;
/** Readings per message: small backlogs keep each test under a minute on 2 cores. */
const PER_MESSAGE = 10;
/** Spool bound (messages) of the influxd-outage test: far less than the stream. */
const SPOOL_MAX = 5000;
const DB = 'heat';

/** Broker options for a simulated fleet pushing as fast as it can through a few connections. */
const fastBroker = { publishRatePerSec: 1e9, publishBurst: 1e9, publishFloodCutoff: 1e9 };

describe('ingest fault tolerance (100,000 readings each)', () => {
  let dir: string;
  let registry: RegistryRepository;
  let influxd: InfluxdHandle;
  let broker: BrokerApp;
  let mqttPort: number;
  let ingest: IngestProcess | undefined;

  const startBroker = async () => {
    // In-memory broker persistence: the broker stays up in these tests (its restart is
    // ingest.broker-restart.test.ts, with the on-disk journal).
    broker = await createBrokerApp({ registry, logger, options: fastBroker });
    await broker.listen({ mqttPort, wsPort: 0, host: '127.0.0.1' });
  };

  /** The ingest as its own process (one pid to SIGKILL). */
  const startIngest = (env: Record<string, string> = {}) =>
    (ingest = spawnIngest({
      DATA_DIR: dir,
      INFLUX_URL: influxd.url,
      INFLUX_DB: DB,
      MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
      SERVICE_SECRET: FIX_SERVICE_SECRET,
      INGEST_RULES: '0',
      LOG_LEVEL: 'warn',
      ...env,
    }));
  const killIngest = (signal: NodeJS.Signals) => ingest?.stop(signal) ?? Promise.resolve();

  const stored = () => influxd.count(DB, 'room', 'temp').catch(() => -1);
  /** Resolves once influxd holds at least `n` points (one COUNT at a time: no query pile-up). */
  const whenStored = async (n: number) => {
    for (;;) {
      if ((await stored()) >= n) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingest-fault-'));
    registry = seedFixtureRegistry(dir, DEVICES);
    mqttPort = await freePort();
    influxd = await startInfluxd();
    await startBroker();
  });

  afterEach(async () => {
    await killIngest('SIGKILL');
    await broker?.close();
    await influxd?.stop();
    registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const waitForIngestSession = async () => {
    // The ingest is subscribed once the broker knows its (persistent) session.
    await waitFor(() => broker.metrics().connectedServices >= 1, { timeoutMs: 45_000, what: `ingest connected; log: ${ingest?.log()}` });
  };

  it('loses nothing when the ingest is SIGKILLed mid-stream and restarted', async () => {
    startIngest();
    await waitForIngestSession();
    const killAt = whenStored(TOTAL * 0.3).then(() => killIngest('SIGKILL'));
    const published = publishStream({ url: `mqtt://127.0.0.1:${mqttPort}`, devices: DEVICES, perDevice: PER_DEVICE, perMessage: PER_MESSAGE, baseTs: Date.now() - 2 * DAY_MS });
    await killAt;
    const atKill = await stored();
    expect(atKill).toBeLessThan(TOTAL);
    startIngest();
    expect(await published).toBe(TOTAL);
    await waitFor(async () => (await stored()) >= TOTAL, { timeoutMs: 50_000, intervalMs: 250, what: `all readings stored; log: ${ingest?.log()}` });
    expect(await stored()).toBe(TOTAL);
  }, 120_000);

  it('loses nothing when influxd is down for 30 s mid-stream (spool bound → broker holds the rest)', async () => {
    // A small spool bound so the outage fills it and the ingest has to stop acking.
    startIngest({ INGEST_SPOOL_MAX: String(SPOOL_MAX) });
    await waitForIngestSession();
    let downAt = 0;
    const outage = whenStored(TOTAL * 0.1).then(async () => {
      downAt = await stored();
      await influxd.kill('SIGKILL');
    });
    const published = publishStream({ url: `mqtt://127.0.0.1:${mqttPort}`, devices: DEVICES, perDevice: PER_DEVICE, perMessage: PER_MESSAGE, baseTs: Date.now() - 2 * DAY_MS });
    await outage;
    // The outage itself is the scenario: 30 s of wall time with influxd gone.
    await new Promise((r) => setTimeout(r, 30_000));
    try {
      // Meanwhile the spool filled to its bound and stopped there: the ingest stopped
      // acking, and the broker holds the rest in the ingest's persistent session.
      const pending = SpoolRepository.pending(dir);
      expect(pending).toBeGreaterThan(0);
      expect(pending).toBeLessThanOrEqual(SPOOL_MAX);
      expect(await stored()).toBe(-1);
    } finally {
      await influxd.start();
    }
    expect(await published).toBe(TOTAL);
    await waitFor(async () => (await stored()) >= TOTAL, { timeoutMs: 50_000, intervalMs: 250, what: `all readings stored; log: ${ingest?.log()}` });
    expect(downAt).toBeLessThan(TOTAL);
    expect(await stored()).toBe(TOTAL);
  }, 120_000);
});
