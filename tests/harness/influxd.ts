/**
 * A throwaway real `influxd` (Debian's influxdb 1.6.7) on a temporary directory and free
 * ports. Used by integration tests, the chaos suite and the bench. Supports SIGKILL/restart
 * and SIGSTOP/SIGCONT for fault tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';

export interface InfluxdHandle {
  readonly url: string;
  readonly dir: string;
  readonly httpPort: number;
  /** The running influxd's process id (for CPU accounting in the bench). */
  readonly pid: number | undefined;
  /** Run an InfluxQL query, return the raw JSON. */
  query(q: string, db?: string): Promise<unknown>;
  /** Count points of a measurement (across all fields), via SELECT COUNT. */
  count(db: string, measurement: string, field: string): Promise<number>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startInfluxd(opts: { binary?: string } = {}): Promise<InfluxdHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'influxd-'));
  let httpPort = await freePort();
  let rpcPort = await freePort();
  const conf = join(dir, 'influxdb.conf');
  const writeConf = () =>
    writeFileSync(
      conf,
      `reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
  logging-enabled = false
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  cache-max-memory-size = "1g"
  max-series-per-database = 0
  max-values-per-tag = 0
  wal-fsync-delay = "0s"
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  max-body-size = 0
[continuous_queries]
  enabled = true
  log-enabled = false
`,
    );
  writeConf();
  let url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(opts.binary ?? 'influxd', ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const c = child;
    await waitFor(
      async () => {
        if (c.exitCode !== null) throw new Error(`influxd exited: ${stderr}`);
        const r = await fetch(`${url}/ping`);
        return r.status === 204;
      },
      { timeoutMs: 30_000, what: 'influxd /ping' },
    );
  };
  // Free ports can be taken by a parallel test between probing and influxd binding them:
  // try again on fresh ports rather than fail.
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      httpPort = await freePort();
      rpcPort = await freePort();
      url = `http://127.0.0.1:${httpPort}`;
      writeConf();
    }
  }
  const handle: InfluxdHandle = {
    url,
    dir,
    httpPort,
    get pid() {
      return child?.pid;
    },
    async query(q, db) {
      const u = new URL(`${url}/query`);
      u.searchParams.set('q', q);
      if (db) u.searchParams.set('db', db);
      const r = await fetch(u, { method: 'POST' });
      if (!r.ok) throw new Error(`query failed ${r.status}: ${await r.text()}`);
      return r.json();
    },
    async count(db, measurement, field) {
      const j = (await handle.query(`SELECT COUNT("${field}") FROM "${measurement}"`, db)) as {
        results: { series?: { values: [string, number][] }[] }[];
      };
      return j.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
    },
    async kill(signal = 'SIGKILL') {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((res) => {
        c.once('exit', () => res());
        c.kill(signal);
      });
    },
    start,
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      await handle.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
