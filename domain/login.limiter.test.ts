import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.ts';
import { HeatError } from './errors.ts';
import { LoginLimiter, loginLimiterDefaults, type LoginLimiterOptions } from './login.limiter.ts';

const opts: LoginLimiterOptions = {
  freeFailuresPerAccountAddress: 3,
  freeFailuresPerAddress: 10,
  baseDelayPerAccountAddressMs: 1_000,
  maxDelayPerAccountAddressMs: 8_000,
  baseDelayPerAddressMs: 1_000,
  maxDelayPerAddressMs: 4_000,
  forgetAfterMs: 60_000,
  maxKeys: 1_000,
};

/** A limiter on the test options, `over` changed; its clock stands still unless one is passed. */
const limiter = (over: Partial<LoginLimiterOptions> = {}, clock = new ManualClock(0)) => new LoginLimiter(clock, { ...opts, ...over });

/** A whole API sign-in with a wrong (or right) password; the retry-after, or 0 when let through. */
function tryLogin(l: LoginLimiter, account: string, address: string, right = false): number {
  try {
    const a = l.begin(account, address);
    if (right) a.succeeded();
    else a.failed();
    return 0;
  } catch (e) {
    expect(e).toBeInstanceOf(HeatError);
    expect(e).toMatchObject({ code: 'HEAT_ERR_RATE_LIMITED' });
    return (e as HeatError & { details: { retryAfterSec: number } }).details.retryAfterSec;
  }
}

describe('the login limiter, asked first (the API)', () => {
  it('lets the free failures through, then makes each further one wait twice as long, up to the cap', () => {
    const clock = new ManualClock(0);
    const l = limiter({}, clock);
    for (let i = 0; i < 3; i++) expect(tryLogin(l, 'li', '10.0.0.1')).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      waits.push(l.waitMs('li', '10.0.0.1'));
      expect(tryLogin(l, 'li', '10.0.0.1')).toBe(Math.ceil(waits.at(-1)! / 1000));
      clock.advance(waits.at(-1)!);
      expect(tryLogin(l, 'li', '10.0.0.1')).toBe(0);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
  });

  it('never locks the owner out: another address is not slowed, and the right password works once the wait has passed', () => {
    const clock = new ManualClock(0);
    const l = limiter({}, clock);
    for (let i = 0; i < 6; i++) tryLogin(l, 'li', '203.0.113.9');
    expect(tryLogin(l, 'li', '10.0.0.1', true)).toBe(0);
    clock.advance(l.waitMs('li', '203.0.113.9'));
    expect(tryLogin(l, 'li', '203.0.113.9', true)).toBe(0);
    // The success forgot the pair: the next mistake is free again.
    expect(l.waitMs('li', '203.0.113.9')).toBe(0);
  });

  it('counts an attempt as a failure as it starts, so parallel guesses cannot all slip in', () => {
    const l = limiter();
    const started = [0, 1, 2].map(() => l.begin('li', '10.0.0.1'));
    expect(() => l.begin('li', '10.0.0.1')).toThrow(HeatError);
    for (const a of started) a.failed();
  });

  it('slows one address spraying many accounts, with the lower cap, and a success takes only its own attempt back', () => {
    const clock = new ManualClock(0);
    const l = limiter({}, clock);
    for (let i = 0; i < 10; i++) expect(tryLogin(l, `user${i}`, '10.9.9.9')).toBe(0);
    expect(l.waitMs('anyone', '10.9.9.9')).toBe(1_000);
    for (let i = 0; i < 4; i++) {
      clock.advance(l.waitMs('anyone', '10.9.9.9'));
      tryLogin(l, `more${i}`, '10.9.9.9');
    }
    expect(l.waitMs('anyone', '10.9.9.9')).toBe(4_000);
    expect(l.waitMs('anyone', '10.0.0.1')).toBe(0);
    clock.advance(4_000);
    expect(tryLogin(l, 'owner', '10.9.9.9', true)).toBe(0);
    // The spraying stays on the address: knowing one password does not clear a guesser's record.
    expect(l.waitMs('anyone', '10.9.9.9')).toBe(4_000);
  });

  it('forgets a key after forgetAfterMs and keeps at most maxKeys', () => {
    const clock = new ManualClock(0);
    const l = limiter({ maxKeys: 4 }, clock);
    for (let i = 0; i < 4; i++) tryLogin(l, 'li', '10.0.0.1');
    expect(l.waitMs('li', '10.0.0.1')).toBeGreaterThan(0);
    clock.advance(60_000);
    expect(l.waitMs('li', '10.0.0.1')).toBe(0);
    for (let i = 0; i < 4; i++) tryLogin(l, 'li', '10.0.0.2');
    // Two more addresses push the oldest keys out; memory stays bounded.
    tryLogin(l, 'x', '10.0.0.3');
    tryLogin(l, 'y', '10.0.0.4');
    expect(l.waitMs('li', '10.0.0.2')).toBe(0);
  });

  it('has the documented defaults: three free guesses, then 1 s doubling to 15 min', () => {
    expect(loginLimiterDefaults).toMatchObject({
      freeFailuresPerAccountAddress: 3,
      baseDelayPerAccountAddressMs: 1_000,
      maxDelayPerAccountAddressMs: 900_000,
    });
  });
});

describe('the login limiter, told after the check (the broker)', () => {
  it('returns the wait each failure sets, counts failures and throttled pairs, and prunes forgotten keys', () => {
    const clock = new ManualClock(0);
    const l = limiter({ freeFailuresPerAccountAddress: 1 }, clock);
    expect([1, 2, 3, 4, 5].map(() => l.failed('d1', '10.0.0.9'))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
    expect(l.failuresTotal).toBe(5);
    expect(l.throttledNow).toBe(1);
    clock.advance(60_000);
    l.prune();
    expect(l.throttledNow).toBe(0);
  });

  it('can start an address at its cap (the broker: an address guessing across ids waits the longest at once)', () => {
    const l = limiter({ freeFailuresPerAccountAddress: 1, freeFailuresPerAddress: 3, baseDelayPerAddressMs: 4_000 });
    expect([0, 1, 2, 3].map((i) => l.failed(`id-${i}`, '10.0.0.2'))).toEqual([1_000, 1_000, 4_000, 4_000]);
  });

  it('keys a connection without an address by the client id alone', () => {
    const l = limiter({ freeFailuresPerAccountAddress: 1 });
    expect(l.failed('d1', undefined)).toBe(1_000);
    expect(l.failed('d1', undefined)).toBe(2_000);
    expect(l.failed('d1', '10.0.0.1')).toBe(1_000);
  });

  it('never waits with a zero base delay', () => {
    const l = limiter({ baseDelayPerAccountAddressMs: 0, baseDelayPerAddressMs: 0, freeFailuresPerAccountAddress: 0 });
    expect(l.failed('d1', 'a')).toBe(0);
    expect(l.waitMs('d1', 'a')).toBe(0);
  });
});
