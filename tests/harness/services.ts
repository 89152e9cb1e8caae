/**
 * Run the platform's services as real child processes (`tsx <service>/server.ts`), each
 * with its own environment, so chaos tests can SIGKILL, SIGSTOP and restart them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './ports.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

export type ServiceName = 'broker' | 'ingest' | 'api';

export interface ServiceProcess {
  readonly name: ServiceName;
  readonly log: () => string;
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  pause(): void;
  resume(): void;
  running(): boolean;
}

/**
 * @param ready resolves when the service is usable (e.g. its port answers).
 */
export function serviceProcess(name: ServiceName, env: Record<string, string>, ready: () => Promise<boolean>): ServiceProcess {
  let child: ChildProcess | undefined;
  let out = '';
  const append = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  return {
    name,
    log: () => out,
    async start() {
      child = spawn(tsx, [join(root, name, 'server.ts')], {
        cwd: root,
        env: { ...process.env, LOG_LEVEL: 'warn', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', append);
      child.stderr?.on('data', append);
      const c = child;
      await waitFor(
        async () => {
          if (c.exitCode !== null) throw new Error(`${name} exited with ${c.exitCode}: ${out}`);
          return ready();
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `${name} ready` },
      );
    },
    async kill(signal = 'SIGKILL') {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((res) => {
        c.once('exit', () => res());
        if (signal !== 'SIGKILL') c.kill('SIGCONT');
        c.kill(signal);
      });
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
  };
}

/** True when something accepts TCP connections on the port. */
export async function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
