/**
 * Issue 13 finding 5: sockets outlived logout, disabling and expiry (the token was checked
 * at the handshake only; after logout both sockets kept receiving city-wide readings). Now a
 * socket belongs to its session: each way a session ends disconnects its sockets at once,
 * and nothing more is delivered to them. Real socket.io clients over a real port.
 */
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, LiveReading, ServerToClientEvents } from '../../domain/events.ts';
import { authDefaults } from '../../api/auth.service.ts';
import { T0 } from '../api-fixture.ts';
import { startSecurityApi, type SecurityApi } from './security-fixture.ts';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

let t: SecurityApi;
const open: Client[] = [];
beforeAll(async () => {
  t = await startSecurityApi();
});
afterAll(async () => {
  for (const s of open) s.close();
  await t?.close();
});

const reading: LiveReading = {
  deviceId: 'rs-b1-a11',
  kind: 'room_sensor',
  ts: T0,
  fields: { temp: 17.2 },
  apartmentId: 'b1-a11',
  stationId: 's1',
};

async function connect(token: string): Promise<{ s: Client; got: LiveReading[][]; closed: Promise<string> }> {
  const s: Client = ioClient(`http://127.0.0.1:${t.port}`, {
    auth: { token },
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
  });
  open.push(s);
  await new Promise<void>((res, rej) => {
    s.once('connect', () => res());
    s.once('connect_error', rej);
  });
  const got: LiveReading[][] = [];
  s.on('readings', (b) => got.push([...b]));
  const closed = new Promise<string>((res) => s.once('disconnect', (reason) => res(reason)));
  return { s, got, closed };
}

/** Resolves with the disconnect reason, or 'still connected' after `ms`. */
const within = (p: Promise<string>, ms = 2_000): Promise<string> =>
  Promise.race([p, new Promise<string>((r) => setTimeout(() => r('still connected'), ms))]);

async function login(username: string, password = 'heatwatch-demo'): Promise<string> {
  const r = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
    remoteAddress: `10.5.0.${Math.floor(Math.random() * 200) + 1}`,
  });
  if (r.statusCode !== 200) throw new Error(`${username}: ${r.statusCode} ${r.body}`);
  return r.json<{ token: string }>().token;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('sockets end with their session', () => {
  it('logout disconnects that session’s sockets at once; the person’s other session keeps its own', async () => {
    const tokenA = await login('dispatcher');
    const tokenB = await login('dispatcher');
    const a = await connect(tokenA);
    const b = await connect(tokenB);
    t.app.heat.onLiveMessage([reading]);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.got).toHaveLength(1);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(tokenA) })).statusCode).toBe(204);
    expect(await within(a.closed)).toBe('io server disconnect');
    t.app.heat.onLiveMessage([reading]);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.got).toHaveLength(1);
    expect(b.got).toHaveLength(2);
    expect(b.s.connected).toBe(true);
    // The ended token cannot open a new socket either.
    await expect(connect(tokenA)).rejects.toThrow('HEAT_ERR_UNAUTHENTICATED');
  });

  it('disabling a person disconnects every socket of theirs', async () => {
    const r1 = await connect(await login('resident1'));
    const r1b = await connect(await login('resident1'));
    const people = (await t.req('GET', '/api/v1/people', 'admin')).json<{ id: string; username: string }[]>();
    const id = people.find((p) => p.username === 'resident1')!.id;
    expect((await t.req('POST', `/api/v1/people/${id}/disable`, 'admin', {})).statusCode).toBe(200);
    expect(await within(r1.closed)).toBe('io server disconnect');
    expect(await within(r1b.closed)).toBe('io server disconnect');
    t.app.heat.onLiveMessage([reading]);
    await new Promise((r) => setTimeout(r, 200));
    expect([...r1.got, ...r1b.got]).toEqual([]);
  });

  it('a password change ends the other sessions and their sockets, not the one that made it', async () => {
    const here = await login('engineer');
    const there = await login('engineer');
    const mine = await connect(here);
    const theirs = await connect(there);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: bearer(here),
      payload: { currentPassword: 'heatwatch-demo', newPassword: 'a-much-longer-secret-9' },
    });
    expect(res.statusCode).toBe(204);
    expect(await within(theirs.closed)).toBe('io server disconnect');
    expect(await within(mine.closed, 500)).toBe('still connected');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(there) })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(here) })).statusCode).toBe(200);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: 'engineer', password: 'a-much-longer-secret-9' },
        })
      ).statusCode,
    ).toBe(200);
    mine.s.close();
  });

  it('expiry disconnects at the session’s end on the platform clock, and follow re-checks the session', async () => {
    const m = await connect(await login('manager'));
    const h = await connect(await login('head-o1'));
    t.clock.advance(authDefaults.sessionTtlMs - 60_000);
    t.app.heat.tick();
    expect(await within(m.closed, 300)).toBe('still connected');
    t.clock.advance(60_000);
    t.app.heat.tick();
    expect(await within(m.closed)).toBe('io server disconnect');
    expect(await within(h.closed)).toBe('io server disconnect');
    // A follow on a socket whose session has gone in the meantime is refused and disconnects.
    const d = await connect(await login('dispatcher'));
    t.registry.db.prepare('DELETE FROM sessions').run();
    const ok = await new Promise<boolean>((res) => d.s.emit('follow', 'station:s1', res));
    expect(ok).toBe(false);
    expect(await within(d.closed)).toBe('io server disconnect');
  });
});
