/**
 * Fault test: restart the broker mid-stream (100,000 readings from simulated devices). The
 * broker keeps the ingest's persistent session on disk (LevelDB); publishers and the ingest
 * reconnect; un-acked messages are resent by the publishers and redelivered by the broker.
 * Afterwards the number of points in InfluxDB equals the number published — exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { DAY_MS } from '../domain/clock.ts';
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
const DB = 'heat';

/** Broker options for a simulated fleet pushing as fast as it can through a few connections. */
const fastBroker = { publishRatePerSec: 1e9, publishBurst: 1e9, publishFloodCutoff: 1e9 };

describe('ingest fault tolerance: broker restart (100,000 readings)', () => {
  let dir: string;
  let registry: RegistryRepository;
  let influxd: InfluxdHandle;
  let broker: BrokerApp;
  let mqttPort: number;
  let ingest: IngestProcess | undefined;

  const startBroker = async () => {
    // On-disk persistence: the ingest's session and its queued messages survive the restart.
    broker = await createBrokerApp({ registry, logger, persistenceDir: join(dir, 'broker'), options: fastBroker });
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

  it('loses nothing when the broker restarts mid-stream', async () => {
    startIngest();
    await waitForIngestSession();
    const restart = whenStored(TOTAL * 0.3).then(async () => {
      await broker.close();
      await startBroker();
    });
    const published = publishStream({ url: `mqtt://127.0.0.1:${mqttPort}`, devices: DEVICES, perDevice: PER_DEVICE, perMessage: PER_MESSAGE, baseTs: Date.now() - 2 * DAY_MS });
    await restart;
    expect(await published).toBeGreaterThanOrEqual(TOTAL);
    await waitFor(async () => (await stored()) >= TOTAL, { timeoutMs: 50_000, intervalMs: 250, what: `all readings stored; log: ${ingest?.log()}` });
    expect(await stored()).toBe(TOTAL);
  }, 120_000);
});
