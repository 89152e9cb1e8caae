/**
 * People's sign-in: scrypt-checked passwords, bearer session tokens, and a login limiter
 * that slows brute force per username and per client address on the injected clock.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.ts';
import { HeatError } from '../domain/errors.ts';
import type { PeopleRepository, Person, Role } from './people.repository.ts';

/** Defaults with units in the name (CONVENTIONS.md #6). */
export const authDefaults = Object.freeze({
  sessionTtlMs: 12 * 3_600_000,
  /** Failed logins per username inside the window before further attempts are refused. */
  maxFailuresPerUser: 5,
  /** Failed logins per client address inside the window (spraying many usernames). */
  maxFailuresPerAddress: 20,
  failureWindowMs: 15 * 60_000,
});

/** Counts failures in a sliding window; a key over its limit is refused until the oldest failure ages out. */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  constructor(private readonly clock: Clock, private readonly opts = authDefaults) {}

  #recent(key: string): number[] {
    const now = this.clock.now();
    const list = (this.#failures.get(key) ?? []).filter((t) => t > now - this.opts.failureWindowMs);
    if (list.length) this.#failures.set(key, list);
    else this.#failures.delete(key);
    return list;
  }

  /** Throws HEAT_ERR_RATE_LIMITED (with retryAfterSec) when either key is over its limit. */
  check(username: string, address: string): void {
    for (const [key, max] of [[`u:${username}`, this.opts.maxFailuresPerUser], [`a:${address}`, this.opts.maxFailuresPerAddress]] as const) {
      const list = this.#recent(key);
      if (list.length >= max) {
        const retryAfterSec = Math.max(1, Math.ceil((list[0]! + this.opts.failureWindowMs - this.clock.now()) / 1000));
        throw new HeatError('HEAT_ERR_RATE_LIMITED', undefined, { retryAfterSec });
      }
    }
  }

  fail(username: string, address: string): void {
    const now = this.clock.now();
    for (const key of [`u:${username}`, `a:${address}`]) this.#failures.set(key, [...this.#recent(key), now]);
  }

  succeed(username: string): void {
    this.#failures.delete(`u:${username}`);
  }
}

export class AuthService {
  readonly limiter: LoginLimiter;
  constructor(private readonly people: PeopleRepository, private readonly clock: Clock, private readonly opts = authDefaults) {
    this.limiter = new LoginLimiter(clock, opts);
  }

  login(username: string, password: string, address: string): { token: string; expiresAt: number; person: Person } {
    this.limiter.check(username, address);
    const person = this.people.verify(username, password);
    if (!person) {
      this.limiter.fail(username, address);
      throw new HeatError('HEAT_ERR_BAD_CREDENTIALS');
    }
    this.limiter.succeed(username);
    const now = this.clock.now();
    return { token: this.people.createSession(person.id, now, this.opts.sessionTtlMs), expiresAt: now + this.opts.sessionTtlMs, person };
  }

  authenticate(token: string | undefined): Person | undefined {
    if (!token) return undefined;
    return this.people.session(token, this.clock.now());
  }

  logout(token: string): void {
    this.people.deleteSession(token);
  }

  /**
   * The first admin: from ADMIN_PASSWORD, or a generated password returned so the caller
   * logs it once. Does nothing when an admin exists.
   */
  ensureAdmin(password: string | undefined): { username: string; generatedPassword?: string } | undefined {
    if (this.people.list({ role: 'admin' }).length) return undefined;
    const generated = password ? undefined : randomBytes(12).toString('base64url');
    this.people.create({ id: 'p-admin', username: 'admin', name: 'Administrator', role: 'admin', password: password ?? generated! }, this.clock.now());
    return { username: 'admin', ...(generated ? { generatedPassword: generated } : {}) };
  }
}

/** Extract a bearer token from an Authorization header. */
export function bearer(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m?.[1];
}

export const STAFF_ROLES: readonly Role[] = ['admin', 'dispatcher', 'station_staff', 'station_head', 'manager', 'engineer'];
export const ALL_ROLES: readonly Role[] = [...STAFF_ROLES, 'resident'];
