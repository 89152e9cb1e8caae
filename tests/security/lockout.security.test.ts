/**
 * Issue 13 finding 6, for people: 5 wrong passwords locked a username for 15 minutes from
 * any address, even for the right password. Now an attacker hammering an account from one
 * address only slows that address (growing waits), the owner signing in from elsewhere gets
 * in at once, and even the attacking address is never locked: the right password works as
 * soon as the current wait has passed. Spraying many accounts from one address slows that
 * address only. Throttled answers hash no password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authDefaults } from '../../api/auth.service.ts';
import { startTestApi, type TestApi } from '../api-fixture.ts';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.close();
});

const login = (username: string, password: string, ip: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress: ip });

describe('nobody can lock anybody out', () => {
  it('200 guesses against one account leave its owner free to sign in, right away, from their address', async () => {
    const attacker = '203.0.113.66';
    const codes = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      const r = await login('manager', `guess-${i}`, attacker);
      codes.set(r.statusCode, (codes.get(r.statusCode) ?? 0) + 1);
    }
    // Only the free failures were even checked; the rest were turned away before any hashing.
    expect(codes.get(401)).toBe(authDefaults.freeFailuresPerAccountAddress);
    expect(codes.get(429)).toBe(200 - authDefaults.freeFailuresPerAccountAddress);
    expect((await login('manager', 'heatwatch-demo', '198.51.100.7')).statusCode).toBe(200);
    expect((await login('manager', 'heatwatch-demo', '198.51.100.7')).statusCode).toBe(200);
  });

  it('makes the attacking address wait longer after each failure, and lets the right password in once the wait is over', async () => {
    const ip = '203.0.113.77';
    const waits: number[] = [];
    for (let i = 0; waits.length < 8; i++) {
      const r = await login('dispatcher', `guess-${i}`, ip);
      if (r.statusCode === 429) {
        const s = Number(r.headers['retry-after']);
        waits.push(s);
        t.clock.advance(s * 1000);
      } else expect(r.statusCode).toBe(401);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
    expect((await login('dispatcher', 'one-more-guess', ip)).statusCode).toBe(401);
    // Right password during the wait: 429 (no oracle); after it: in.
    const early = await login('dispatcher', 'heatwatch-demo', ip);
    expect(early.statusCode).toBe(429);
    t.clock.advance(Number(early.headers['retry-after']) * 1000);
    expect((await login('dispatcher', 'heatwatch-demo', ip)).statusCode).toBe(200);
    // Success forgets this pair's failures: the next mistake is free again.
    expect((await login('dispatcher', 'typo', ip)).statusCode).toBe(401);
    expect((await login('dispatcher', 'heatwatch-demo', ip)).statusCode).toBe(200);
  });

  it('caps the wait: even after a day of guessing the owner at that address waits at most 15 minutes', async () => {
    const ip = '203.0.113.88';
    for (let i = 0; i < 40; i++) {
      const r = await login('engineer', `guess-${i}`, ip);
      if (r.statusCode === 429) t.clock.advance(Number(r.headers['retry-after']) * 1000);
    }
    t.clock.advance(authDefaults.maxDelayPerAccountAddressMs);
    expect((await login('engineer', 'the-last-guess', ip)).statusCode).toBe(401);
    const r = await login('engineer', 'heatwatch-demo', ip);
    expect(r.statusCode).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(authDefaults.maxDelayPerAccountAddressMs / 1000);
    t.clock.advance(authDefaults.maxDelayPerAccountAddressMs);
    expect((await login('engineer', 'heatwatch-demo', ip)).statusCode).toBe(200);
  });

  it('slows one address spraying many accounts without touching other addresses, and parallel guesses cannot slip in together', async () => {
    const sprayer = '203.0.113.99';
    for (let i = 0; i < authDefaults.freeFailuresPerAddress; i++)
      expect((await login(`user${i}`, 'Summer2026!', sprayer)).statusCode).toBe(401);
    expect((await login('head-o1', 'heatwatch-demo', sprayer)).statusCode).toBe(429);
    expect((await login('head-o1', 'heatwatch-demo', '198.51.100.8')).statusCode).toBe(200);
    t.clock.advance(authDefaults.maxDelayPerAddressMs);
    expect((await login('head-o1', 'heatwatch-demo', sprayer)).statusCode).toBe(200);

    // 30 guesses at once from a fresh address: only the free ones reach the password check.
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => login('staff-o1', `burst-${i}`, '203.0.113.100')));
    expect(burst.filter((r) => r.statusCode === 401)).toHaveLength(authDefaults.freeFailuresPerAccountAddress);
    expect(burst.filter((r) => r.statusCode === 429)).toHaveLength(30 - authDefaults.freeFailuresPerAccountAddress);
  });

  it('throttles a password change’s current-password check the same way', async () => {
    await t.relogin();
    const change = (current: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: { authorization: `Bearer ${t.tokens['head-o2']}` },
        payload: { currentPassword: current, newPassword: 'heating-season-ledger' },
        remoteAddress: '203.0.113.101',
      });
    for (let i = 0; i < authDefaults.freeFailuresPerAccountAddress; i++) expect((await change(`wrong-${i}`)).statusCode).toBe(401);
    expect((await change('heatwatch-demo')).statusCode).toBe(429);
  });
});
