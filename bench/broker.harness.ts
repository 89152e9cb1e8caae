/**
 * What the broker benches share (bench/broker.bench.ts, bench/reconnect-storm.bench.ts): the
 * bench devices' ids and secrets, the registry they are seeded into, the broker child
 * process (`broker/server.ts`, as deployed) and the /proc figures read off a child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RegistryRepository } from '../storage/records/registry.repository.ts';
import { serviceSecretFor } from '../storage/records/service-accounts.ts';
import { freePort, waitFor } from '../tests/harness/ports.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
export const SERVICE_SECRET = 'bench-service-secret';
export const deviceId = (i: number) => `bench-${String(i).padStart(6, '0')}`;
export const deviceSecret = (i: number) => `secret-${i}`;

export interface Child {
  proc: ChildProcess;
  out: () => string;
  stop(): Promise<void>;
}

export function launch(cmd: string, args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  proc.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  return {
    proc,
    out: () => out,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      // SIGTERM first (a profiled broker writes its --cpu-prof file on a clean exit), then SIGKILL.
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
/** CPU time (user + system) a process has used, in ms (clock ticks of 10 ms). */
export const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
export const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
export const nofile = (pid: number) => Number(/Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1] ?? NaN);

export async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** `feed`: 'mqtt' routes telemetry to subscribers (the rows against mosquitto), 'spool' spools it (issue 19). */
export async function startBroker(dataDir: string, port: number, feed: 'mqtt' | 'spool' = 'mqtt', redisUrl = ''): Promise<Child> {
  // BENCH_BROKER_NODE_ARGS: extra node flags for the broker child (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const extra = (process.env.BENCH_BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const b = launch(process.execPath, [...extra, '--import', 'tsx', join(root, 'broker', 'server.ts')], {
    DATA_DIR: dataDir,
    MQTT_PORT: String(port),
    MQTT_WS_PORT: '0',
    HOST: '127.0.0.1',
    SERVICE_SECRET,
    LOG_LEVEL: 'warn',
    REDIS_URL: redisUrl,
    TLS_CERT_FILE: '',
    TLS_KEY_FILE: '',
    INGEST_FEED: feed,
  });
  await waitFor(
    async () => {
      if (b.proc.exitCode !== null) throw new Error(`broker exited: ${b.out()}`);
      return portOpen(port);
    },
    { timeoutMs: 30_000, what: 'broker' },
  );
  return b;
}

export function seed(dataDir: string, devices: number): void {
  const registry = RegistryRepository.open(dataDir);
  registry.db.transaction(() => {
    for (let i = 0; i < devices; i++)
      registry.upsertDevice({ id: deviceId(i), kind: 'room_sensor', intervalMin: 5, enabled: true }, deviceSecret(i));
  })();
  registry.upsertServiceAccount('svc-sim', ['replay'], serviceSecretFor(SERVICE_SECRET, 'svc-sim'));
  registry.upsertServiceAccount('svc-ingest', ['ingest'], serviceSecretFor(SERVICE_SECRET, 'svc-ingest'));
  registry.close();
}

/** A throwaway redis-server (no persistence) for the REDIS_URL variant of a bench. */
export async function startRedisServer(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const r = launch('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await waitFor(() => portOpen(port), { timeoutMs: 30_000, what: 'redis-server' });
  return { url: `redis://127.0.0.1:${port}`, pid: r.proc.pid!, stop: () => r.stop() };
}
