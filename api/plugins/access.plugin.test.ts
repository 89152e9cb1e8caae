/**
 * The default-deny hook on its own: a route that declares nothing is closed to everyone,
 * `public: true` is the only way to open one, roles are checked on the routed request, and
 * an unmatched URL reaches no handler. Sessions come from a stub AuthService (unit spec);
 * the audit log is a real in-memory SQLite.
 */
import { RegistryRepository } from '../../storage/records/registry.repository.ts';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../domain/clock.ts';
import { AuditRepository } from '../audit.repository.ts';
import type { AuthService } from '../auth.service.ts';
import type { App } from '../context.ts';
import type { Person } from '../people.repository.ts';
import { installAccessControl } from './access.plugin.ts';
import { installErrorHandling } from './errors.plugin.ts';

const engineer: Person = { id: 'p1', username: 'eng', name: 'E', role: 'engineer', disabled: false, createdAt: 0 };

async function app() {
  const f = Fastify() as unknown as App;
  const audit = new AuditRepository(RegistryRepository.open(':memory:').db);
  const auth = {
    session: (t: string | undefined) => (t === 'good' ? { person: engineer, id: 's1', expiresAt: 1e15 } : undefined),
  } as unknown as AuthService;
  installErrorHandling(f, { counters: { http5xx: 0 } });
  const access = installAccessControl(f, { auth, audit, clock: new ManualClock(0) });
  const ran: string[] = [];
  f.post('/forgotten', () => ran.push('forgotten'));
  f.post('/open', { config: { public: true } }, () => ran.push('open'));
  f.post('/engineers', { config: { roles: ['engineer'] } }, () => ran.push('engineers'));
  f.post('/admins', { config: { roles: ['admin'] } }, () => ran.push('admins'));
  f.post('/nobody', { config: { roles: [] } }, () => ran.push('nobody'));
  await f.ready();
  const call = (url: string, token?: string) =>
    f.inject({ method: 'POST', url, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
  return { f, ran, access, audit, call };
}

describe('default-deny access hook', () => {
  it('closes a route without config to everyone, signed in or not', async () => {
    const { ran, call } = await app();
    expect((await call('/forgotten')).statusCode).toBe(401);
    expect((await call('/forgotten', 'good')).statusCode).toBe(403);
    expect((await call('/nobody', 'good')).statusCode).toBe(403);
    expect(ran).toEqual([]);
  });

  it('opens only public routes and the routes of the caller’s role', async () => {
    const { ran, call, access, audit } = await app();
    expect((await call('/open')).statusCode).toBe(200);
    expect((await call('/engineers')).statusCode).toBe(401);
    expect((await call('/engineers', 'good')).statusCode).toBe(200);
    expect((await call('/admins', 'good')).json()).toMatchObject({ code: 'HEAT_ERR_FORBIDDEN', details: { reason: 'role' } });
    expect((await call('/%65ngineers')).statusCode).toBe(401);
    expect(ran).toEqual(['open', 'engineers']);
    expect(access.counters).toMatchObject({ refused401: 2, refused403: 1 });
    expect(audit.list({ entity: 'access' }).map((e) => [e.actor, e.entityId])).toEqual([
      ['anonymous', 'POST /engineers'],
      ['eng', 'POST /admins'],
      ['anonymous', 'POST /engineers'],
    ]);
  });

  it('answers an unmatched URL with a coded 404 and lists every route with its config', async () => {
    const { call, access } = await app();
    expect((await call('/missing')).json()).toEqual({ code: 'HEAT_ERR_NOT_FOUND', message: 'Not found' });
    expect(access.routes()).toContainEqual({ method: 'POST', url: '/forgotten' });
    expect(access.routes()).toContainEqual({ method: 'POST', url: '/open', public: true });
  });
});
