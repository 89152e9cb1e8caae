/** The data-access module against a small in-memory mock of the API (unit level). */
import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, asList, normaliseHistory, type Fetch } from './api.ts';

function mock(routes: Record<string, (init?: RequestInit) => { status?: number; body: unknown }>): { client: ApiClient; calls: { url: string; init?: RequestInit }[] } {
  const calls: { url: string; init?: RequestInit }[] = [];
  const f: Fetch = (url, init) => {
    calls.push({ url, init });
    const key = `${init?.method ?? 'GET'} ${url.split('?')[0]}`;
    const h = routes[key];
    const r = h ? h(init) : { status: 404, body: { code: 'HEAT_ERR_NOT_FOUND', message: 'not found' } };
    return Promise.resolve(new Response(JSON.stringify(r.body), { status: r.status ?? 200 }));
  };
  return { client: new ApiClient('http://x', f), calls };
}

describe('ApiClient', () => {
  it('logs in, then sends the bearer token', async () => {
    const { client, calls } = mock({
      'POST http://x/api/v1/auth/login': () => ({ body: { token: 't1', expiresAt: 1, person: { id: 'p1', username: 'dispatcher', role: 'dispatcher' } } }),
      'GET http://x/api/v1/stations': () => ({ body: [{ id: 's1' }] }),
    });
    const r = await client.login('dispatcher', 'pw');
    expect(r.user.role).toBe('dispatcher');
    expect(await client.stations()).toEqual([{ id: 's1' }]);
    expect(new Headers(calls[1]!.init!.headers).get('authorization')).toBe('Bearer t1');
  });

  it('raises coded errors', async () => {
    const { client } = mock({ 'POST http://x/api/v1/auth/login': () => ({ status: 401, body: { code: 'HEAT_ERR_UNAUTHORIZED', message: 'bad' } }) });
    await expect(client.login('a', 'b')).rejects.toMatchObject({ status: 401, code: 'HEAT_ERR_UNAUTHORIZED' });
    await expect(client.login('a', 'b')).rejects.toBeInstanceOf(ApiError);
  });

  it('reads latest and history from GET /measurements with epoch-ms bounds', async () => {
    const { client, calls } = mock({
      'GET http://x/api/v1/measurements': () => ({ body: { latest: [{ deviceId: 'm', ts: 5, fields: { pumpHz: 40 } }], history: [{ ts: 2, value: 1 }, { ts: 1, value: null }, { ts: 0, value: 3 }] } }),
    });
    expect((await client.latest({ stationId: 's1' }))[0]!.fields.pumpHz).toBe(40);
    expect(await client.history({ stationId: 's1', field: 'pumpHz', from: 0, to: 10, windowMs: 60_000 })).toEqual([
      { ts: 0, value: 3 },
      { ts: 2, value: 1 },
    ]);
    expect(calls[1]!.url).toContain('from=0&to=10');
  });

  it('posts order steps to /orders/:id/<step> and complaints to /orders', async () => {
    const { client, calls } = mock({
      'POST http://x/api/v1/orders/o1/dispatch': () => ({ body: { id: 'o1', status: 'dispatched' } }),
      'POST http://x/api/v1/orders': () => ({ status: 201, body: { linked: false, order: { id: 'o2', number: 'N2' } } }),
      'POST http://x/api/v1/measurement-requests': () => ({ status: 201, body: { linked: false, order: { id: 'o3', number: 'N3' } } }),
    });
    expect((await client.act('o1', { type: 'dispatch', assignee: 'w' })).status).toBe('dispatched');
    expect(JSON.parse(calls[0]!.init!.body as string)).toEqual({ assignee: 'w' });
    expect((await client.residentRequest('a1', 'complaint', 'cold')).number).toBe('N2');
    expect((await client.residentRequest('a1', 'measurement', 'measure')).number).toBe('N3');
  });

  it('provisions a device and returns its secret once', async () => {
    const { client } = mock({ 'POST http://x/api/v1/devices': () => ({ status: 201, body: { device: { id: 'd1', kind: 'room_sensor', enabled: true }, secret: 's3cret' } }) });
    expect(await client.provision({ id: 'd1', kind: 'room_sensor', roomId: 'r1' })).toEqual({ device: { id: 'd1', kind: 'room_sensor', enabled: true }, secret: 's3cret' });
  });
});

describe('normalisers', () => {
  it('accept bare lists and wrapped ones', () => {
    expect(asList([1])).toEqual([1]);
    expect(asList({ items: [2] })).toEqual([2]);
    expect(asList({ nope: 1 })).toEqual([]);
  });
  it('read history points in several shapes', () => {
    expect(normaliseHistory([{ ts: '1970-01-01T00:00:00.001Z', mean: 4 }, { time: 0, temp: 5 }], 'temp')).toEqual([
      { ts: 0, value: 5 },
      { ts: 1, value: 4 },
    ]);
  });
});
