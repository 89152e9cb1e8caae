/**
 * Owns the stop-once shutdown of a service process (broker/, ingest/, api/ server.ts and
 * start.ts): on the first SIGINT or SIGTERM it logs, runs the service's close sequence once
 * (a second signal while it runs is ignored) and exits 0, or logs the error and exits 1.
 * It sits in storage/ because every service may import storage/, while domain/ stays free of I/O.
 */
import type { Logger } from 'pino';

/** The part of `process` it uses; a test passes its own. */
export interface SignalProcess {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  exit(code: number): unknown;
}

export interface ShutdownMessages {
  /** Logged at info, with the signal, when the close sequence starts. */
  readonly stopping: string;
  /** Logged at error, with the error, when the close sequence fails. */
  readonly failed: string;
}

export function closeOnSignals(
  logger: Pick<Logger, 'info' | 'error'>,
  messages: ShutdownMessages,
  close: () => Promise<void> | void,
  proc: SignalProcess = process,
): void {
  let closing = false;
  const stop = (signal: 'SIGINT' | 'SIGTERM'): void => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, messages.stopping);
    void Promise.resolve()
      .then(close)
      .then(
        () => proc.exit(0),
        (err: unknown) => {
          logger.error({ err }, messages.failed);
          proc.exit(1);
        },
      );
  };
  proc.on('SIGINT', () => stop('SIGINT'));
  proc.on('SIGTERM', () => stop('SIGTERM'));
}
