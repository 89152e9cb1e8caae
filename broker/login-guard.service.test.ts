import { describe, expect, it } from 'vitest';
import { ManualClock } from '../domain/clock.ts';
import { LoginGuard } from './login-guard.service.ts';
import { resolveOptions } from './options.ts';

const opts = resolveOptions({
  authFailuresPerClientId: 3,
  authFailuresPerAddress: 5,
  authWindowMs: 60_000,
  authBlockMs: 120_000,
  authFailureDelayMs: 100,
  authFailureDelayMaxMs: 250,
});

describe('LoginGuard', () => {
  it('slows down each failure, then blocks the client id for authBlockMs', () => {
    const clock = new ManualClock(0);
    const g = new LoginGuard(clock, opts);
    expect(g.fail('d1', '10.0.0.1')).toBe(100);
    expect(g.fail('d1', '10.0.0.1')).toBe(200);
    expect(g.isBlocked('d1', '10.0.0.9')).toBe(false);
    expect(g.fail('d1', '10.0.0.1')).toBe(250); // capped
    expect(g.isBlocked('d1', '10.0.0.9')).toBe(true);
    expect(g.blocksStarted).toBe(1);
    clock.advance(120_000);
    expect(g.isBlocked('d1', '10.0.0.9')).toBe(false);
  });

  it('forgets failures outside the window and after a good login', () => {
    const clock = new ManualClock(0);
    const g = new LoginGuard(clock, opts);
    g.fail('d1', undefined);
    g.fail('d1', undefined);
    clock.advance(60_000);
    g.fail('d1', undefined);
    expect(g.isBlocked('d1', undefined)).toBe(false);
    g.fail('d1', undefined);
    g.succeed('d1');
    g.fail('d1', undefined);
    expect(g.isBlocked('d1', undefined)).toBe(false);
  });

  it('blocks an address that guesses across many client ids', () => {
    const clock = new ManualClock(0);
    const g = new LoginGuard(clock, opts);
    for (let i = 0; i < 5; i++) g.fail(`d${i}`, '10.0.0.2');
    expect(g.isBlocked('fresh-id', '10.0.0.2')).toBe(true);
    expect(g.isBlocked('fresh-id', '10.0.0.3')).toBe(false);
    expect(g.blockedNow).toBe(1);
  });
});
