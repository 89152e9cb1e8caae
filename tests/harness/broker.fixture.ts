/**
 * A broker for a test file, seeded with broker/testing.fixture.ts's registry, built in
 * beforeAll and torn down in afterAll:
 *  - brokerFixture: a real broker process (tests/broker-*.test.ts that crash it) on a fresh
 *    DATA_DIR and a free port, SIGKILLed and its data dir removed at the end. `restart()` is
 *    the crash the durability tests are about: kill -9, then start again on the same disk.
 *  - brokerAppFixture: createBrokerApp in the test process, on an in-memory registry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll } from 'vitest';
import { createBrokerApp, type BrokerApp, type BrokerDeps } from '../../broker/app.ts';
import { SERVICE_SECRET, deviceSecret, seedRegistry, silentLogger } from '../../broker/testing.fixture.ts';
import type { RegistryRepository } from '../../storage/records/registry.repository.ts';
import { freePort } from './ports.ts';
import { brokerProcess, type ServiceProcess } from './services.ts';

export interface BrokerFixture {
  /** The broker's DATA_DIR. */
  readonly dataDir: string;
  readonly port: number;
  /** mqtt://127.0.0.1:<port> */
  readonly url: string;
  /** The child process itself: start, kill, log, exit. */
  readonly process: ServiceProcess;
  /** SIGKILL (and check that is how it ended), then start again on the same data dir and port. */
  restart(): Promise<void>;
}

export interface BrokerFixtureOptions {
  /**
   * Called once with the data dir before the first start: may create files in it (a fault
   * wrapper's control file) and returns environment added to brokerProcess()'s.
   */
  readonly prepare?: (dataDir: string) => Record<string, string>;
}

/**
 * A fixture object whose fields its beforeAll fills in (Object.assign): read them inside tests
 * and later hooks, never at the top of the file.
 */
type Filled<T> = { -readonly [K in keyof T]: T[K] };

/** Registers the file's beforeAll/afterAll. */
export function brokerFixture(tmpPrefix: string, opts: BrokerFixtureOptions = {}): BrokerFixture {
  const f = {
    async restart() {
      await f.process.kill('SIGKILL');
      const { signal } = f.process.exit();
      if (signal !== 'SIGKILL') throw new Error(`broker ended by ${String(signal)}, not SIGKILL: ${f.process.log().slice(-2000)}`);
      await f.process.start();
    },
  } as Filled<BrokerFixture>;

  // 240 s: serviceProcess' own bound for a cold start on a loaded machine.
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), tmpPrefix));
    seedRegistry(dataDir).close();
    const port = await freePort();
    const proc = brokerProcess(dataDir, port, SERVICE_SECRET, 'mqtt', opts.prepare?.(dataDir));
    Object.assign(f, { dataDir, port, url: `mqtt://127.0.0.1:${port}`, process: proc });
    await proc.start();
  }, 240_000);

  afterAll(async () => {
    if (!f.dataDir) return;
    await f.process.kill('SIGKILL');
    rmSync(f.dataDir, { recursive: true, force: true });
  });

  return f;
}

export interface BrokerAppFixture {
  /** The broker in this test process (broker/app.ts), listening on 127.0.0.1 (TCP only). */
  readonly app: BrokerApp;
  /** Its registry: broker/testing.fixture.ts's seed plus `devices`, in memory. */
  readonly registry: RegistryRepository;
  readonly port: number;
  /** mqtt://127.0.0.1:<port> */
  readonly url: string;
  /** Keep a client to be ended (forcefully) after the file's tests; returns it. */
  track<T extends MqttClient>(c: T): T;
  /** End every tracked client now (forcefully) and forget them. */
  endTracked(): Promise<void>;
}

export interface BrokerAppFixtureOptions extends Omit<BrokerDeps, 'registry' | 'logger'> {
  /** Room sensors added to the seeded registry, each with its deviceSecret(id). */
  readonly devices?: readonly string[];
}

/**
 * One broker in the test process for a test file: an in-memory seeded registry, createBrokerApp
 * with `deps`, a free TCP port; built in beforeAll, and its tracked clients, the broker and the
 * registry closed in afterAll. Read the fields inside tests and later hooks.
 */
export function brokerAppFixture(opts: BrokerAppFixtureOptions = {}): BrokerAppFixture {
  const { devices = [], ...deps } = opts;
  const open: MqttClient[] = [];
  const f = {
    track: (c) => (open.push(c), c),
    async endTracked() {
      await Promise.all(open.splice(0).map((c) => c.endAsync(true)));
    },
  } as Filled<BrokerAppFixture>;

  beforeAll(async () => {
    const registry = seedRegistry();
    for (const id of devices) registry.upsertDevice({ id, kind: 'room_sensor', intervalMin: 5, enabled: true }, deviceSecret(id));
    const app = await createBrokerApp({ ...deps, registry, logger: silentLogger });
    const { mqttPort } = await app.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' });
    Object.assign(f, { app, registry, port: mqttPort, url: `mqtt://127.0.0.1:${mqttPort}` });
  });

  afterAll(async () => {
    await f.endTracked();
    await f.app?.close();
    f.registry?.close();
  });

  return f;
}
