/**
 * People's sign-in: scrypt-checked passwords (off the event loop), bearer sessions, password
 * changes, and a throttle that slows guessing without letting anyone lock anyone out.
 * Revoking a session (logout, disabling, a password change) is announced to listeners so
 * the socket gateway disconnects the sockets of that session at once.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.ts';
import { HeatError } from '../domain/errors.ts';
import { assertPasswordPolicy, hashPasswordAsync, passwordProblem } from './password.ts';
import type { NewPerson, PeopleRepository, Person, Session } from './people.repository.ts';
import { LoginLimiter, loginLimiterDefaults } from '../domain/login.limiter.ts';

/** Defaults with units in the name (CONVENTIONS.md #6). */
export const authDefaults = Object.freeze({
  sessionTtlMs: 12 * 3_600_000,
  // The login limiter (domain/login.limiter.ts): slows guessing per account and address, never locks.
  ...loginLimiterDefaults,
});

/** A session ended by the platform: one session, or every session of a person (but one). */
export type Revocation = { readonly sessionId: string } | { readonly personId: string; readonly exceptSessionId?: string };

export class AuthService {
  readonly throttle: LoginLimiter;
  readonly #listeners = new Set<(r: Revocation) => void>();
  constructor(
    private readonly people: PeopleRepository,
    private readonly clock: Clock,
    private readonly opts = authDefaults,
  ) {
    this.throttle = new LoginLimiter(clock, opts);
  }

  /** Called whenever sessions end other than by expiry; returns the unsubscribe. */
  onRevoke(listener: (r: Revocation) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #revoke(r: Revocation): void {
    for (const l of this.#listeners) l(r);
  }

  async login(username: string, password: string, address: string): Promise<{ token: string; expiresAt: number; person: Person }> {
    const attempt = this.throttle.begin(username, address);
    const person = await this.people.verify(username, password);
    if (!person) {
      attempt.failed();
      throw new HeatError('HEAT_ERR_BAD_CREDENTIALS');
    }
    attempt.succeeded();
    const now = this.clock.now();
    return { token: this.people.createSession(person.id, now, this.opts.sessionTtlMs), expiresAt: now + this.opts.sessionTtlMs, person };
  }

  authenticate(token: string | undefined): Person | undefined {
    return this.session(token)?.person;
  }

  session(token: string | undefined): Session | undefined {
    if (!token) return undefined;
    return this.people.session(token, this.clock.now());
  }

  logout(token: string): void {
    const s = this.session(token);
    this.people.deleteSession(token);
    if (s) this.#revoke({ sessionId: s.id });
  }

  /**
   * Disable (or enable) a person; disabling ends every session and socket at once. `audit`
   * writes the change's audit entry in the same transaction: if it throws, nothing changed.
   */
  setDisabled(personId: string, disabled: boolean, audit: () => void): boolean {
    const found = this.people.transaction(() => {
      if (!this.people.setDisabled(personId, disabled)) return false;
      if (disabled) this.people.deleteSessionsOf(personId);
      audit();
      return true;
    });
    if (found && disabled) this.#revoke({ personId });
    return found;
  }

  /**
   * Change one's own password: the current one must match (throttled like a login), the new
   * one meets the policy; every other session of the person ends, this one stays. The new
   * hash is made first; the change and `audit`'s entry are then one transaction (all or none).
   */
  async changePassword(session: Session, currentPassword: string, newPassword: string, address: string, audit: () => void): Promise<void> {
    const p = session.person;
    assertPasswordPolicy(newPassword, 'body/newPassword', p.username);
    if (newPassword === currentPassword)
      throw new HeatError('HEAT_ERR_WEAK_PASSWORD', 'body/newPassword: the same as the current one', {
        fields: ['body/newPassword'],
        reason: 'unchanged',
      });
    const attempt = this.throttle.begin(p.username, address);
    if (!(await this.people.verify(p.username, currentPassword))) {
      attempt.failed();
      throw new HeatError('HEAT_ERR_BAD_CREDENTIALS', 'The current password is wrong');
    }
    attempt.succeeded();
    const hash = await hashPasswordAsync(newPassword);
    this.people.transaction(() => {
      this.people.setPasswordHash(p.id, hash);
      this.people.deleteSessionsOf(p.id, session.id);
      audit();
    });
    this.#revoke({ personId: p.id, exceptSessionId: session.id });
  }

  /**
   * A new person from a request: the password policy first, the hash off the event loop, then
   * the insert and `audit`'s entry for it in one transaction (all or none).
   */
  async createPerson(p: NewPerson, audit: (created: Person) => void): Promise<Person> {
    assertPasswordPolicy(p.password, 'body/password', p.username);
    const { password, ...fields } = p;
    const hash = await hashPasswordAsync(password);
    return this.people.transaction(() => {
      const created = this.people.insert(fields, hash, this.clock.now());
      audit(created);
      return created;
    });
  }

  /**
   * Enabled accounts among `usernames` that still sign in with `password` (the demo check:
   * a non-loopback bind refuses to start while any demo account has the published password).
   */
  async stillUsing(usernames: readonly string[], password: string): Promise<string[]> {
    const out: string[] = [];
    for (const u of usernames) if (await this.people.verify(u, password)) out.push(u);
    return out;
  }

  /**
   * The first admin: from ADMIN_PASSWORD, or a generated password returned so the caller
   * logs it once. Does nothing when an admin exists. A weak ADMIN_PASSWORD stops start-up.
   */
  ensureAdmin(password: string | undefined): { username: string; generatedPassword?: string } | undefined {
    if (this.people.list({ role: 'admin' }).length) return undefined;
    const problem = password ? passwordProblem(password, 'admin') : undefined;
    if (problem) throw new Error(`ADMIN_PASSWORD is refused: ${problem.text} (docs/security.md)`);
    const generated = password ? undefined : randomBytes(12).toString('base64url');
    this.people.create(
      { id: 'p-admin', username: 'admin', name: 'Administrator', role: 'admin', password: password ?? generated! },
      this.clock.now(),
    );
    return { username: 'admin', ...(generated ? { generatedPassword: generated } : {}) };
  }
}

/** Extract a bearer token from an Authorization header. */
export function bearer(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m?.[1];
}

export { ALL_ROLES, STAFF_ROLES } from '../domain/roles.ts';
