/** Unit tests of bench/deadline.ts and of waitFor's cut-off of a hung attempt (fake timers: no wall-clock waits). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineError, formatMs, withDeadline } from './deadline.ts';
import { waitFor } from '../tests/harness/ports.ts';

describe('withDeadline', () => {
  afterEach(() => void vi.useRealTimers());

  it('rejects a step that never settles with the stage and the deadline in the message', async () => {
    vi.useFakeTimers();
    const onTimeout = vi.fn();
    const p = withDeadline(new Promise<never>(() => {}), 60_000, 'redis row: ingest-ready probe got no PUBACK', onTimeout);
    const caught = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(onTimeout).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    const e = await caught;
    expect(e).toBeInstanceOf(DeadlineError);
    expect((e as DeadlineError).message).toBe('redis row: ingest-ready probe got no PUBACK in 60 s');
    expect((e as DeadlineError).stage).toBe('redis row: ingest-ready probe got no PUBACK');
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });

  it('passes a value or an error through before the deadline and leaves no timer behind', async () => {
    vi.useFakeTimers();
    await expect(withDeadline(Promise.resolve(42), 1000, 'x')).resolves.toBe(42);
    await expect(withDeadline(Promise.reject(new Error('refused')), 1000, 'x')).rejects.toThrow('refused');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('formats deadlines in s or ms', () => {
    expect(formatMs(60_000)).toBe('60 s');
    expect(formatMs(1500)).toBe('1.5 s');
    expect(formatMs(250)).toBe('250 ms');
  });
});

describe('waitFor', () => {
  afterEach(() => void vi.useRealTimers());

  it('fails at its deadline when an attempt never settles (it used to wait for ever)', async () => {
    vi.useFakeTimers();
    const caught = waitFor(() => new Promise<never>(() => {}), { timeoutMs: 5000, what: 'ingest ready' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5000);
    expect(String(await caught)).toBe(
      'Error: timed out waiting for ingest ready: an attempt was still unanswered at the deadline (5000 ms)',
    );
    expect(vi.getTimerCount()).toBe(0);
  });

  it('still retries failed attempts and returns the first value', async () => {
    vi.useFakeTimers();
    let n = 0;
    const p = waitFor(() => (++n < 3 ? Promise.reject(new Error('not yet')) : n), { timeoutMs: 5000, intervalMs: 10 });
    await vi.advanceTimersByTimeAsync(30);
    await expect(p).resolves.toBe(3);
  });
});
