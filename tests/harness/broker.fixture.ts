/**
 * One real broker process for a test file (tests/broker-*.test.ts): a fresh DATA_DIR seeded
 * with the broker fixtures' registry (broker/testing.fixture.ts), a free port, the process
 * started in beforeAll, SIGKILLed and its data dir removed in afterAll. `restart()` is the
 * crash the durability tests are about: kill -9, then start again on the same disk and port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { SERVICE_SECRET, seedRegistry } from '../../broker/testing.fixture.ts';
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

/** Registers the file's beforeAll/afterAll; read the fields inside tests and later hooks. */
export function brokerFixture(tmpPrefix: string, opts: BrokerFixtureOptions = {}): BrokerFixture {
  let state: { dataDir: string; port: number; process: ServiceProcess } | undefined;
  const get = () => {
    if (!state) throw new Error(`brokerFixture(${tmpPrefix}): read before its beforeAll ran`);
    return state;
  };

  // 240 s: serviceProcess' own bound for a cold start on a loaded machine.
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), tmpPrefix));
    seedRegistry(dataDir).close();
    const port = await freePort();
    state = { dataDir, port, process: brokerProcess(dataDir, port, SERVICE_SECRET, 'mqtt', opts.prepare?.(dataDir)) };
    await state.process.start();
  }, 240_000);

  afterAll(async () => {
    if (!state) return;
    await state.process.kill('SIGKILL');
    rmSync(state.dataDir, { recursive: true, force: true });
  });

  return {
    get dataDir() {
      return get().dataDir;
    },
    get port() {
      return get().port;
    },
    get url() {
      return `mqtt://127.0.0.1:${get().port}`;
    },
    get process() {
      return get().process;
    },
    async restart() {
      const p = get().process;
      await p.kill('SIGKILL');
      const { signal } = p.exit();
      if (signal !== 'SIGKILL') throw new Error(`broker ended by ${String(signal)}, not SIGKILL: ${p.log().slice(-2000)}`);
      await p.start();
    },
  };
}
