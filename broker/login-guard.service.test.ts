import { describe, expect, it } from 'vitest';
import { ManualClock } from '../domain/clock.ts';
import { createLoginGuard } from './login-guard.service.ts';
import { resolveOptions } from './options.ts';

const opts = resolveOptions({
  authFailuresPerAddress: 5,
  authWindowMs: 60_000,
  authFailureDelayMs: 100,
  authFailureDelayMaxMs: 1_000,
});
/** A guard with `opts` on a clock of its own (or the test's, to drive the window). */
const guard = (clock = new ManualClock(0)) => createLoginGuard(clock, opts);

describe('the broker login guard (domain/login.limiter.ts with the broker options)', () => {
  it('doubles the refusal delay per failure of one (client id, address), from the first, up to the maximum', () => {
    const g = guard();
    expect([1, 2, 3, 4, 5].map(() => g.failed('d1', '10.0.0.9'))).toEqual([100, 200, 400, 800, 1_000]);
    expect(g.failuresTotal).toBe(5);
    expect(g.throttledNow).toBe(1);
  });

  it("keeps each address' failures to itself: the same id from elsewhere starts afresh", () => {
    const g = guard();
    for (let i = 0; i < 4; i++) g.failed('svc-ingest', '203.0.113.7');
    expect(g.failed('svc-ingest', '127.0.0.1')).toBe(100);
  });

  it('forgets a pair on success and after the window', () => {
    const clock = new ManualClock(0);
    const g = guard(clock);
    g.failed('d1', 'a');
    g.failed('d1', 'a');
    g.succeeded('d1', 'a');
    expect(g.failed('d1', 'a')).toBe(100);
    clock.advance(60_001);
    g.prune();
    expect(g.throttledNow).toBe(0);
    expect(g.failed('d1', 'a')).toBe(100);
  });

  it('gives the longest delay to an address failing across more than authFailuresPerAddress client ids', () => {
    const g = guard();
    for (let i = 0; i < 5; i++) expect(g.failed(`id-${i}`, '10.0.0.2')).toBe(100);
    expect(g.failed('id-fresh', '10.0.0.2')).toBe(1_000);
    expect(g.failed('id-fresh', '10.0.0.3')).toBe(100);
  });

  it('does not delay at all with a zero base delay', () => {
    const g = createLoginGuard(new ManualClock(0), resolveOptions({ authFailureDelayMs: 0 }));
    expect(g.failed('d1', 'a')).toBe(0);
  });
});
