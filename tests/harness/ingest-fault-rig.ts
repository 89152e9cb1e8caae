/**
 * The rig of the ingest fault tests: per test a fresh fixture registry, a real influxd, the
 * broker in this process (fast limits for a simulated fleet) and the ingest as its own
 * process, plus a stream of readings and exact counts in influxd. Call inside `describe`: it
 * registers its own beforeEach/afterEach.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../../broker/app.ts';
import { DAY_MS } from '../../domain/clock.ts';
import { FIX_SERVICE_SECRET, publishStream, seedFixtureRegistry } from '../../ingest/testing.fixture.ts';
import type { RegistryRepository } from '../../storage/records/registry.repository.ts';
import { startInfluxd, type InfluxdHandle } from './influxd.ts';
import { freePort, waitFor } from './ports.ts';
import { serviceProcess, type ServiceProcess } from './services.ts';

const DB = 'heat';
/** Broker options for a simulated fleet pushing as fast as it can through a few connections. */
const fastBroker = { publishRatePerSec: 1e9, publishBurst: 1e9, publishFloodCutoff: 1e9 };

export interface IngestFaultRigOptions {
  readonly devices: number;
  readonly perDevice: number;
  readonly perMessage: number;
  /** Broker sessions on disk (the journal) rather than in memory: needed to restart the broker. */
  readonly brokerOnDisk: boolean;
}

export interface IngestFaultRig {
  readonly total: number;
  readonly dir: () => string;
  readonly influxd: () => InfluxdHandle;
  readonly broker: () => BrokerApp;
  startBroker(): Promise<void>;
  /** Start the ingest (rules off) and resolve once it has subscribed. */
  startIngest(env?: Record<string, string>): Promise<void>;
  killIngest(signal: NodeJS.Signals): Promise<void>;
  /** Publish the whole stream; resolves with the number of readings the broker acknowledged. */
  publish(): Promise<number>;
  /** Points in influxd (−1 while it does not answer). */
  stored(): Promise<number>;
  /** Resolves once influxd holds at least `n` points (one COUNT at a time: no query pile-up). */
  whenStored(n: number): Promise<void>;
  /** Wait until influxd holds at least every reading of the stream; resolves with its count. */
  storedOnceComplete(): Promise<number>;
}

export function useIngestFaultRig(o: IngestFaultRigOptions): IngestFaultRig {
  const logger = pino({ level: 'silent' });
  const total = o.devices * o.perDevice;
  let dir = '';
  let registry: RegistryRepository | undefined;
  let influxd: InfluxdHandle | undefined;
  let broker: BrokerApp | undefined;
  let mqttPort = 0;
  let ingest: ServiceProcess | undefined;

  const rig: IngestFaultRig = {
    total,
    dir: () => dir,
    influxd: () => influxd!,
    broker: () => broker!,
    async startBroker() {
      broker = await createBrokerApp({
        registry: registry!,
        logger,
        persistenceDir: o.brokerOnDisk ? join(dir, 'broker') : undefined,
        options: fastBroker,
      });
      await broker.listen({ mqttPort, wsPort: 0, host: '127.0.0.1' });
    },
    async startIngest(env = {}) {
      const p: ServiceProcess = serviceProcess(
        'ingest',
        {
          DATA_DIR: dir,
          INFLUX_URL: influxd!.url,
          INFLUX_DB: DB,
          MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
          SERVICE_SECRET: FIX_SERVICE_SECRET,
          INGEST_RULES: '0',
          // The rig's broker is in-process in MQTT mode (createBrokerApp's default).
          INGEST_FEED: 'mqtt',
          LOG_LEVEL: 'info',
          ...env,
        },
        // "ingest started" follows the SUBACK: a reading published before it would reach no one.
        () => Promise.resolve(/ingest started/.test(p.log())),
      );
      ingest = p;
      await p.start();
    },
    killIngest: (signal) => ingest?.kill(signal) ?? Promise.resolve(),
    publish: () =>
      publishStream({
        url: `mqtt://127.0.0.1:${mqttPort}`,
        devices: o.devices,
        perDevice: o.perDevice,
        perMessage: o.perMessage,
        baseTs: Date.now() - 2 * DAY_MS,
      }),
    stored: () => influxd!.count(DB, 'room', 'temp').catch(() => -1),
    async whenStored(n) {
      for (;;) {
        if ((await rig.stored()) >= n) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async storedOnceComplete() {
      await waitFor(async () => (await rig.stored()) >= total, { timeoutMs: 50_000, intervalMs: 250, what: 'all readings stored' }).catch(
        (e: unknown) => {
          throw new Error(`${String(e)}\ningest log:\n${ingest?.log() ?? ''}`);
        },
      );
      return rig.stored();
    },
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingest-fault-'));
    registry = seedFixtureRegistry(dir, o.devices);
    mqttPort = await freePort();
    influxd = await startInfluxd();
    await rig.startBroker();
  });

  afterEach(async () => {
    await rig.killIngest('SIGKILL');
    await broker?.close();
    await influxd?.stop();
    registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  return rig;
}
