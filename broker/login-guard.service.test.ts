import { describe, expect, it } from 'vitest';
import { ManualClock } from '../domain/clock.ts';
import { LoginGuard } from './login-guard.service.ts';
import { resolveOptions } from './options.ts';

const opts = resolveOptions({
  authFailuresPerAddress: 5,
  authWindowMs: 60_000,
  authFailureDelayMs: 100,
  authFailureDelayMaxMs: 1_000,
});

describe('LoginGuard', () => {
  it('doubles the refusal delay per failure of one (client id, address), up to the maximum', () => {
    const g = new LoginGuard(new ManualClock(0), opts);
    expect([1, 2, 3, 4, 5].map(() => g.fail('d1', '10.0.0.9'))).toEqual([100, 200, 400, 800, 1_000]);
    expect(g.failuresTotal).toBe(5);
    expect(g.throttledNow).toBe(1);
  });

  it("keeps each address' failures to itself: the same id from elsewhere starts afresh", () => {
    const g = new LoginGuard(new ManualClock(0), opts);
    for (let i = 0; i < 4; i++) g.fail('svc-ingest', '203.0.113.7');
    expect(g.fail('svc-ingest', '127.0.0.1')).toBe(100);
  });

  it('forgets a pair on success and after the window', () => {
    const clock = new ManualClock(0);
    const g = new LoginGuard(clock, opts);
    g.fail('d1', 'a');
    g.fail('d1', 'a');
    g.succeed('d1', 'a');
    expect(g.fail('d1', 'a')).toBe(100);
    clock.advance(60_001);
    g.prune();
    expect(g.throttledNow).toBe(0);
    expect(g.fail('d1', 'a')).toBe(100);
  });

  it('gives the longest delay to an address failing across many client ids', () => {
    const g = new LoginGuard(new ManualClock(0), opts);
    for (let i = 0; i < 5; i++) expect(g.fail(`id-${i}`, '10.0.0.2')).toBe(100);
    expect(g.fail('id-fresh', '10.0.0.2')).toBe(1_000);
    expect(g.fail('id-fresh', '10.0.0.3')).toBe(100);
  });

  it('does not delay at all with a zero base delay', () => {
    const g = new LoginGuard(new ManualClock(0), resolveOptions({ authFailureDelayMs: 0 }));
    expect(g.fail('d1', 'a')).toBe(0);
  });
});
