import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { closeOnSignals } from './shutdown.ts';

/** A stand-in for `process`: signals are emitted by the test, exit codes recorded. */
function fakeProcess() {
  const events = new EventEmitter();
  const exits: number[] = [];
  let exited: () => void = () => {};
  const done = new Promise<void>((r) => (exited = r));
  return {
    proc: {
      on: (s: 'SIGINT' | 'SIGTERM', l: () => void) => events.on(s, l),
      exit: (code: number) => {
        exits.push(code);
        exited();
      },
    },
    emit: (s: 'SIGINT' | 'SIGTERM') => events.emit(s),
    exits,
    done,
  };
}

const messages = { stopping: 'svc stopping', failed: 'svc close failed' };

describe('closeOnSignals', () => {
  it('runs the close sequence once on the first signal and exits 0', async () => {
    const p = fakeProcess();
    const logger = { info: vi.fn(), error: vi.fn() };
    let release: () => void = () => {};
    const close = vi.fn(() => new Promise<void>((r) => (release = r)));
    closeOnSignals(logger, messages, close, p.proc);
    p.emit('SIGTERM');
    p.emit('SIGINT');
    p.emit('SIGTERM');
    await Promise.resolve();
    expect(close).toHaveBeenCalledTimes(1);
    expect(p.exits).toEqual([]); // not before the close sequence has finished
    release();
    await p.done;
    expect(p.exits).toEqual([0]);
    expect(logger.info).toHaveBeenCalledExactlyOnceWith({ signal: 'SIGTERM' }, 'svc stopping');
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('logs a failing close sequence (thrown or rejected) and exits 1', async () => {
    for (const close of [
      () => {
        throw new Error('sync boom');
      },
      () => Promise.reject(new Error('async boom')),
    ]) {
      const p = fakeProcess();
      const logger = { info: vi.fn(), error: vi.fn() };
      closeOnSignals(logger, messages, close, p.proc);
      p.emit('SIGINT');
      await p.done;
      expect(p.exits).toEqual([1]);
      expect(logger.info).toHaveBeenCalledWith({ signal: 'SIGINT' }, 'svc stopping');
      expect(logger.error).toHaveBeenCalledExactlyOnceWith({ err: expect.any(Error) }, 'svc close failed');
    }
  });
});
