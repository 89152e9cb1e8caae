/**
 * The ingest as its own process for fault tests: `node --import tsx ingest/server.ts`, one
 * pid to SIGKILL, its output kept for failure messages. The environment is passed in full
 * (PATH is added): tests choose store, spool bound and rules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface IngestProcess {
  readonly child: ChildProcess;
  /** The process's recent stdout and stderr. */
  log(): string;
  /** Send `signal` and resolve once the process has exited (at once if it already has). */
  stop(signal: NodeJS.Signals): Promise<void>;
}

export function spawnIngest(env: Record<string, string>, keepChars = 20_000): IngestProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'ingest/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-keepChars));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    child,
    log: () => out,
    stop: (signal) =>
      new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        child.once('exit', () => res());
        child.kill(signal);
      }),
  };
}
