/**
 * Issue 17: an audited change and its audit entry are one records.db transaction. The disk
 * refuses only the audit entry (an I/O error injected at better-sqlite3's Statement#run for the
 * INSERT INTO audit_log): each route answers 503 HEAT_ERR_RECORDS_UNAVAILABLE and keeps nothing
 * of its change (no person created or disabled, the old password still signs in, no outage,
 * no imported row, no onboarded or retired topology); once the disk is back the same request
 * succeeds and is audited once. One row of the table per audited route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../api/demo-people.ts';
import { HOUR_MS } from '../domain/clock.ts';
import { startTestApi, type TestApi } from './api-fixture.ts';
import { injectSqliteFault, insertsInto } from './harness/sqlite-faults.ts';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => t?.close());

const rows = (sql: string, ...args: unknown[]) => t.registry.db.prepare(sql).all(...args);
const audited = (entity: string, entityId: string, action: string) =>
  (
    t.registry.db
      .prepare('SELECT count(*) AS n FROM audit_log WHERE entity = ? AND entity_id = ? AND action = ?')
      .get(entity, entityId, action) as { n: number }
  ).n;
const personId = (username: string) => (rows('SELECT id FROM people WHERE username = ?', username)[0] as { id: string }).id;
const login = async (username: string, password: string) =>
  (await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } })).statusCode;

/** The audit table refuses inserts (EIO) while `on`; every other write goes through. */
const auditFault = (): { off(): void } => injectSqliteFault(t.registry.db, insertsInto('audit_log'));

interface Case {
  name: string;
  send: () => ReturnType<TestApi['req']>;
  ok: number;
  /** What the change would alter, read from records.db: the same before and after a refused request. */
  state: () => unknown;
  /** The audit entry the change writes: [entity, entityId, action]. */
  entry: () => [string, string, string];
  /** Checks beyond the rows: the refused change has no effect, the healed one has. */
  refused?: () => Promise<void>;
  healed?: () => Promise<void>;
}

const csv = { 'content-type': 'text/csv' };
const now = () => t.clock.now();
const cases: Case[] = [
  {
    name: 'POST /auth/password (own password)',
    send: () =>
      t.req('POST', '/api/v1/auth/password', 'engineer', { currentPassword: DEMO_PASSWORD, newPassword: 'engineer-new-password-17' }),
    ok: 204,
    state: () => [rows('SELECT * FROM people WHERE username = ?', 'engineer'), rows('SELECT * FROM sessions ORDER BY token_hash')],
    entry: () => ['person', personId('engineer'), 'password_changed'],
    refused: async () => {
      expect(await login('engineer', DEMO_PASSWORD)).toBe(200); // the old password still signs in
      expect(await login('engineer', 'engineer-new-password-17')).toBe(401);
    },
    healed: async () => {
      expect(await login('engineer', 'engineer-new-password-17')).toBe(200);
      expect(await login('engineer', DEMO_PASSWORD)).toBe(401);
    },
  },
  {
    name: 'POST /people (person created)',
    send: () =>
      t.req('POST', '/api/v1/people', 'admin', {
        id: 'p-new17',
        username: 'new17',
        name: 'New 17',
        role: 'dispatcher',
        password: 'new17-long-password',
      }),
    ok: 201,
    state: () => rows('SELECT * FROM people WHERE id = ? OR username = ?', 'p-new17', 'new17'),
    entry: () => ['person', 'p-new17', 'created'],
    refused: async () => expect(await login('new17', 'new17-long-password')).toBe(401),
    healed: async () => expect(await login('new17', 'new17-long-password')).toBe(200),
  },
  {
    name: 'POST /people/:id/disable (person disabled)',
    send: () => t.req('POST', `/api/v1/people/${personId('staff-o2')}/disable`, 'admin', { disabled: true }),
    ok: 200,
    state: () => [
      rows('SELECT * FROM people WHERE username = ?', 'staff-o2'),
      rows('SELECT * FROM sessions WHERE person_id = ?', personId('staff-o2')),
    ],
    entry: () => ['person', personId('staff-o2'), 'disabled'],
    refused: async () => expect((await t.req('GET', '/api/v1/auth/me', 'staff-o2')).statusCode).toBe(200), // session kept
    healed: async () => expect((await t.req('GET', '/api/v1/auth/me', 'staff-o2')).statusCode).toBe(401),
  },
  {
    name: 'POST /outages (outage announced)',
    send: () =>
      t.req('POST', '/api/v1/outages', 'head-o1', {
        scopeType: 'building',
        scopeId: 'b1',
        startsAt: now() + 72 * HOUR_MS,
        endsAt: now() + 76 * HOUR_MS,
        reason: 'valve replacement',
      }),
    ok: 201,
    state: () => [rows('SELECT * FROM outages'), rows('SELECT * FROM outage_apartments')],
    entry: () => ['outage', (rows('SELECT id FROM outages')[0] as { id: string }).id, 'announced'],
  },
  {
    name: 'POST /import/residents (CSV import)',
    send: () =>
      t.req(
        'POST',
        '/api/v1/import/residents',
        'admin',
        'username,name,apartmentId,phone,password\nli17,Li Si,b1-a11,139,long-enough-pw-17\n',
        csv,
      ),
    ok: 201,
    state: () => rows('SELECT * FROM people WHERE username = ?', 'li17'),
    entry: () => ['import', 'residents', 'imported'],
  },
  {
    name: 'POST /offices (onboarding create)',
    send: () => t.req('POST', '/api/v1/offices', 'admin', { id: 'o17', name: 'Office 17', phone: '010-17' }),
    ok: 201,
    state: () => rows('SELECT * FROM offices WHERE id = ?', 'o17'),
    entry: () => ['topology', 'offices/o17', 'created'],
  },
  {
    name: 'DELETE /offices/:id (onboarding retire)',
    send: () => t.req('DELETE', '/api/v1/offices/o17', 'admin'),
    ok: 200,
    state: () => rows('SELECT * FROM offices WHERE id = ?', 'o17'),
    entry: () => ['topology', 'offices/o17', 'retired'],
  },
];

describe('an audited change whose audit entry the disk refuses', () => {
  for (const c of cases) {
    it(`${c.name}: 503, nothing kept; once the disk is back, made and audited once`, async () => {
      const before = c.state();
      const fault = auditFault();
      let res;
      try {
        res = await c.send();
      } finally {
        fault.off();
      }
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json()).toMatchObject({ code: 'HEAT_ERR_RECORDS_UNAVAILABLE' });
      expect(c.state()).toEqual(before);
      await c.refused?.();

      const again = await c.send();
      expect(again.statusCode, again.body).toBe(c.ok);
      expect(c.state()).not.toEqual(before);
      expect(audited(...c.entry())).toBe(1);
      await c.healed?.();
    });
  }
});
