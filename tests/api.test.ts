/**
 * API basics over fastify inject(): health, OpenAPI, metrics, login, the registry,
 * measurements from the embedded store, the dashboard with SPA fallback, and live
 * readings pushed over socket.io to the rooms a person may see.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LiveReading, ServerToClientEvents } from '../domain/events.ts';
import { ADMIN_PASSWORD, startTestApi, T0, type TestApi } from './api-fixture.ts';

let t: TestApi;
let dashDir: string;

beforeAll(async () => {
  dashDir = mkdtempSync(join(tmpdir(), 'heat-dash-'));
  writeFileSync(join(dashDir, 'index.html'), '<!doctype html><title>heatwatch</title>');
  writeFileSync(join(dashDir, 'app.js'), 'console.log(1)');
  t = await startTestApi({ dashboardDir: dashDir, brokerPrometheus: () => '# TYPE heat_broker_clients gauge\nheat_broker_clients 7\n' });
  await t.store.write([
    {
      deviceId: 'rs-b1-a11',
      kind: 'room_sensor',
      ts: T0 - 600_000,
      fields: { temp: 19.5, bat: 3.0 },
      roomId: 'b1-a11-r1',
      apartmentId: 'b1-a11',
      buildingId: 'b1',
      stationId: 's1',
      officeId: 'o1',
    },
    {
      deviceId: 'rs-b1-a11',
      kind: 'room_sensor',
      ts: T0 - 60_000,
      fields: { temp: 19.0, bat: 2.5 },
      roomId: 'b1-a11-r1',
      apartmentId: 'b1-a11',
      buildingId: 'b1',
      stationId: 's1',
      officeId: 'o1',
    },
    {
      deviceId: 'rs-b1-a12',
      kind: 'room_sensor',
      ts: T0 - 60_000,
      fields: { temp: 21.0, bat: 3.1 },
      roomId: 'b1-a12-r1',
      apartmentId: 'b1-a12',
      buildingId: 'b1',
      stationId: 's1',
      officeId: 'o1',
    },
  ]);
});
afterAll(async () => {
  await t?.close();
  rmSync(dashDir, { recursive: true, force: true });
});

describe('system', () => {
  it('health is public and reports the store', async () => {
    const res = await t.req('GET', '/api/v1/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', store: true, mqtt: false, time: T0 });
  });

  it('serves the OpenAPI document with the order routes', async () => {
    const res = await t.req('GET', '/api/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/orders', '/api/v1/orders/{id}/resolve', '/api/v1/kpis', '/api/v1/devices']),
    );
  });

  it('exposes Prometheus metrics including the broker text', async () => {
    const res = await t.req('GET', '/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toMatch(/heat_api_orders_open 0/);
    expect(res.body).toMatch(/heat_broker_clients 7/);
  });

  it('serves the dashboard and falls back to index.html for client routes, not for /api', async () => {
    const file = await t.req('GET', '/app.js');
    expect(file.statusCode).toBe(200);
    const spa = await t.req('GET', '/stations/s1');
    expect(spa.statusCode).toBe(200);
    expect(spa.body).toContain('<title>heatwatch</title>');
    const api = await t.req('GET', '/api/v1/nope', 'admin');
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ code: 'HEAT_ERR_NOT_FOUND' });
  });
});

describe('replay control', () => {
  it('answers 503 when the host injected no replay control, and validates the body first', async () => {
    expect((await t.req('GET', '/api/v1/replay/scenarios', 'engineer')).json()).toMatchObject({ code: 'HEAT_ERR_UNAVAILABLE' });
    expect((await t.req('POST', '/api/v1/replay', 'engineer', { scenario: 'cold-snap' })).statusCode).toBe(400); // speed missing
    expect((await t.req('POST', '/api/v1/replay', 'engineer', { scenario: 'cold-snap', speed: 100 })).statusCode).toBe(503);
  });
});

describe('auth', () => {
  it('logs in with the first admin password and returns the person', async () => {
    const res = await t.req('POST', '/api/v1/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ person: { username: 'admin', role: 'admin' } });
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${res.json<{ token: string }>().token}` },
    });
    expect(me.json()).toMatchObject({ person: { role: 'admin' } });
  });

  it('rejects a wrong password with a coded 401', async () => {
    const res = await t.req('POST', '/api/v1/auth/login', undefined, { username: 'dispatcher', password: 'nope' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'HEAT_ERR_BAD_CREDENTIALS' });
  });

  it('logout ends the session', async () => {
    const login = await t.req('POST', '/api/v1/auth/login', undefined, { username: 'engineer', password: 'heatwatch-demo' });
    const token = login.json<{ token: string }>().token;
    const auth = { authorization: `Bearer ${token}` };
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: auth })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: auth })).statusCode).toBe(401);
  });
});

describe('registry and measurements', () => {
  it('lists stations, buildings, apartments and rooms', async () => {
    expect((await t.req('GET', '/api/v1/stations', 'dispatcher')).json()).toHaveLength(2);
    expect((await t.req('GET', '/api/v1/buildings?stationId=s1', 'dispatcher')).json()).toHaveLength(2);
    expect((await t.req('GET', '/api/v1/apartments?buildingId=b1', 'dispatcher')).json()).toHaveLength(4);
    const apt = (await t.req('GET', '/api/v1/apartments/b1-a11', 'resident1')).json<{ rooms: unknown[]; building: { id: string } }>();
    expect(apt.rooms).toHaveLength(2);
    expect(apt.building.id).toBe('b1');
  });

  it('returns latest readings and history from the store', async () => {
    const res = await t.req(
      'GET',
      `/api/v1/measurements?apartmentId=b1-a11&field=temp&from=${T0 - 3_600_000}&to=${T0}&windowMs=3600000`,
      'dispatcher',
    );
    expect(res.statusCode).toBe(200);
    const body = res.json<{ latest: { fields: { temp: number } }[]; history: { value: number | null }[] }>();
    expect(body.latest).toHaveLength(1);
    expect(body.latest[0]!.fields.temp).toBe(19.0);
    expect(body.history.some((p) => p.value !== null && Math.abs(p.value - 19.25) < 1e-9)).toBe(true);
  });

  it("aligns day windows to the city's local midnight (Beijing, UTC+8)", async () => {
    const day = 86_400_000;
    const res = await t.req(
      'GET',
      `/api/v1/measurements?apartmentId=b1-a11&field=temp&from=${T0 - 2 * day}&to=${T0 + day}&windowMs=${day}`,
      'dispatcher',
    );
    expect(res.statusCode).toBe(200);
    const { history } = res.json<{ history: { ts: number }[] }>();
    expect(history.length).toBeGreaterThan(0);
    // Local midnight in Beijing is 16:00 UTC the day before.
    for (const p of history) expect((((p.ts + 8 * 3_600_000) % day) + day) % day).toBe(0);
  });

  it('serves the city policy to every role', async () => {
    const res = await t.req('GET', '/api/v1/policy', 'resident1');
    expect(res.json()).toMatchObject({ city: 'beijing', comfort: { standardC: 18 }, service: { answerWithinHours: 24 } });
  });

  it('lists devices with last seen and battery', async () => {
    const res = await t.req('GET', '/api/v1/devices?kind=room_sensor&limit=2', 'engineer');
    const list = res.json<{ id: string; lastSeen: number | null; battery: number | null; lowBattery: boolean; online: boolean }[]>();
    const d = list.find((x) => x.id === 'rs-b1-a11')!;
    expect(d).toMatchObject({ lastSeen: T0 - 60_000, battery: 2.5, lowBattery: true, online: false });
  });
});

describe('socket.io', () => {
  it('pushes live readings to the city desk and to the resident of that apartment only', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const connect = async (who: string): Promise<Socket<ServerToClientEvents, ClientToServerEvents>> => {
      const s: Socket<ServerToClientEvents, ClientToServerEvents> = ioClient(url, {
        auth: { token: t.tokens[who] },
        transports: ['websocket'],
        forceNew: true,
      });
      await new Promise<void>((res, rej) => {
        s.once('connect', () => res());
        s.once('connect_error', rej);
      });
      return s;
    };
    const desk = await connect('dispatcher');
    const mine = await connect('resident1'); // b1-a11
    const other = await connect('resident2'); // b2-a11
    const got = { desk: [] as LiveReading[][], mine: [] as LiveReading[][], other: [] as LiveReading[][] };
    desk.on('readings', (b) => got.desk.push([...b]));
    mine.on('readings', (b) => got.mine.push([...b]));
    other.on('readings', (b) => got.other.push([...b]));
    const batch: LiveReading[] = [
      { deviceId: 'rs-b1-a11', kind: 'room_sensor', ts: T0, fields: { temp: 18.5 }, apartmentId: 'b1-a11', stationId: 's1' },
      { deviceId: 'rs-b1-a12', kind: 'room_sensor', ts: T0, fields: { temp: 20 }, apartmentId: 'b1-a12', stationId: 's1' },
    ];
    t.app.heat.onLiveMessage(batch);
    // A follow-up ack round trip orders delivery after the pushed batch.
    const ok = await new Promise<boolean>((res) => mine.emit('follow', 'apartment:b2-a11', res));
    expect(ok).toBe(false);
    await new Promise<boolean>((res) => desk.emit('follow', 'station:s1', res));
    expect(got.desk).toHaveLength(1);
    expect(got.desk[0]).toHaveLength(2);
    expect(got.mine).toEqual([[batch[0]]]);
    expect(got.other).toEqual([]);
    const unauth = ioClient(url, { auth: { token: 'bad' }, transports: ['websocket'], forceNew: true });
    const err = await new Promise<Error>((res) => unauth.once('connect_error', res));
    expect(err.message).toBe('HEAT_ERR_UNAUTHENTICATED');
    for (const s of [desk, mine, other, unauth]) s.close();
  });
});
