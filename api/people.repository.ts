/**
 * People (staff and residents) and their sessions, in records.db. Passwords are scrypt
 * hashes (storage/records/secrets.ts); session tokens are stored only as SHA-256 digests so
 * a leaked database holds no usable token.
 */
import type Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { hashPassword } from '../storage/records/secrets.ts';
import { hashPasswordAsync, verifyPasswordAsync } from './password.ts';
import { SqliteRepository } from './sqlite.repository.ts';
import { whereOf } from '../storage/records/sql.filter.ts';

import type { NewPersonBody, PersonDto } from '../domain/api.schema.ts';
import type { Role } from '../domain/roles.ts';

export { ROLES, type Role } from '../domain/roles.ts';

/** A person as the API shows them (domain/api.schema.ts PersonSchema): an office for station staff and heads (N5), an apartment for residents. */
export type Person = Readonly<PersonDto>;

/** A person to create (NewPersonBodySchema); the password is hashed here, never stored. */
export type NewPerson = Readonly<NewPersonBody>;

type Row = Record<string, unknown>;
const toPerson = (r: Row): Person => {
  const p: PersonDto = {
    id: r.id as string,
    username: r.username as string,
    name: r.name as string,
    role: r.role as Role,
    disabled: r.disabled === 1,
    createdAt: r.created_at as number,
  };
  if (r.office_id) p.officeId = r.office_id as string;
  if (r.apartment_id) p.apartmentId = r.apartment_id as string;
  if (r.phone) p.phone = r.phone as string;
  return p;
};

/** The stored form of a session token; also the session's id (socket rooms, revocation). */
export const sessionId = (token: string): string => createHash('sha256').update(token).digest('hex');
const digest = sessionId;

/** A live session: who, its id (the token's digest) and when it ends. */
export interface Session {
  readonly person: Person;
  readonly id: string;
  readonly expiresAt: number;
}

export class PeopleRepository extends SqliteRepository {
  constructor(db: Database.Database) {
    super(db);
  }

  count(): number {
    return (this.prep('SELECT count(*) AS n FROM people').get() as { n: number }).n;
  }

  /** Insert a person; the password is hashed here on the calling thread (scrypt, ~50 ms): start-up seeding only. */
  create(p: NewPerson, now: number): Person {
    return this.insert(p, hashPassword(p.password), now);
  }

  /** Insert with a hash made beforehand, off the event loop (requests and imports hash first, then insert with the audit entry in one transaction). */
  insert(p: Omit<NewPerson, 'password'>, passwordHash: string, now: number): Person {
    const id = p.id ?? `p-${randomBytes(6).toString('hex')}`;
    this.db
      .prepare(
        'INSERT INTO people (id, username, name, role, office_id, apartment_id, phone, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)',
      )
      .run(id, p.username, p.name, p.role, p.officeId ?? null, p.apartmentId ?? null, p.phone ?? null, passwordHash, now);
    return this.get(id)!;
  }

  get(id: string): Person | undefined {
    const r = this.prep('SELECT * FROM people WHERE id = ?').get(id) as Row | undefined;
    return r ? toPerson(r) : undefined;
  }

  byUsername(username: string): Person | undefined {
    const r = this.prep('SELECT * FROM people WHERE username = ?').get(username) as Row | undefined;
    return r ? toPerson(r) : undefined;
  }

  list(filter: { role?: Role; apartmentId?: string } = {}): Person[] {
    const w = whereOf([
      ['role = ?', filter.role],
      ['apartment_id = ?', filter.apartmentId],
    ]);
    return (this.prep(`SELECT * FROM people${w.sql} ORDER BY username`).all(...w.args) as Row[]).map(toPerson);
  }

  setDisabled(id: string, disabled: boolean): boolean {
    return this.prep('UPDATE people SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, id).changes === 1;
  }

  async setPassword(id: string, password: string): Promise<boolean> {
    return this.setPasswordHash(id, await hashPasswordAsync(password));
  }

  /** Store a hash made beforehand (a password change hashes first, then writes it with its audit entry). */
  setPasswordHash(id: string, passwordHash: string): boolean {
    return this.prep('UPDATE people SET password_hash = ? WHERE id = ?').run(passwordHash, id).changes === 1;
  }

  /** `fn` as one records.db transaction: its writes (and the caller's audit entry) all or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * The person when the password matches and the account is enabled. Unknown users cost a
   * hash too (no timing oracle). scrypt runs in the thread pool, never on the event loop.
   */
  async verify(username: string, password: string): Promise<Person | undefined> {
    const r = this.prep('SELECT * FROM people WHERE username = ?').get(username) as Row | undefined;
    const ok = await verifyPasswordAsync(password, (r?.password_hash as string | undefined) ?? DUMMY_HASH);
    if (!r || !ok || r.disabled === 1) return undefined;
    // Read again: the account may have been disabled while the hash ran.
    const now = this.prep('SELECT * FROM people WHERE id = ?').get(r.id) as Row | undefined;
    return now && now.disabled !== 1 ? toPerson(now) : undefined;
  }

  createSession(personId: string, now: number, ttlMs: number): string {
    const token = randomBytes(32).toString('base64url');
    this.prep('INSERT INTO sessions (token_hash, person_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(
      digest(token),
      personId,
      now,
      now + ttlMs,
    );
    return token;
  }

  /** The live session behind a token (not expired, its person enabled). */
  session(token: string, now: number): Session | undefined {
    const r = this.prep(
      'SELECT p.*, s.token_hash AS s_id, s.expires_at AS s_expires FROM sessions s JOIN people p ON p.id = s.person_id WHERE s.token_hash = ? AND s.expires_at > ? AND p.disabled = 0',
    ).get(digest(token), now) as Row | undefined;
    return r ? { person: toPerson(r), id: r.s_id as string, expiresAt: r.s_expires as number } : undefined;
  }

  deleteSession(token: string): void {
    this.prep('DELETE FROM sessions WHERE token_hash = ?').run(digest(token));
  }

  /** End every session of a person, or every one but `exceptId` (a password change keeps the session that made it). */
  deleteSessionsOf(personId: string, exceptId?: string): void {
    this.prep('DELETE FROM sessions WHERE person_id = ? AND token_hash <> ?').run(personId, exceptId ?? '');
  }

  /** Sessions past their end are useless; drop them (the SLA tick calls this). */
  deleteExpiredSessions(now: number): number {
    return this.prep('DELETE FROM sessions WHERE expires_at <= ?').run(now).changes;
  }
}

/** A valid hash of a random password, so unknown usernames take as long as wrong passwords. */
const DUMMY_HASH = hashPassword(randomBytes(12).toString('hex'));
