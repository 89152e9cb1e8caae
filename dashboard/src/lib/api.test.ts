/** The data-access module against a small in-memory mock of the API (unit level). */
import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, type Fetch } from './api.ts';

interface Call {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body: string;
}

function mock(routes: Record<string, (body: string) => { status?: number; body: unknown }>): { client: ApiClient; calls: Call[] } {
  const calls: Call[] = [];
  const f: Fetch = async (req) => {
    const body = await req.text();
    calls.push({ method: req.method, url: req.url, headers: req.headers, body });
    const h = routes[`${req.method} ${req.url.split('?')[0]}`];
    const r = h ? h(body) : { status: 404, body: { code: 'HEAT_ERR_NOT_FOUND', message: 'not found' } };
    return new Response(JSON.stringify(r.body), { status: r.status ?? 200, headers: { 'content-type': 'application/json' } });
  };
  return { client: new ApiClient('http://x', f), calls };
}

describe('ApiClient', () => {
  it('logs in, then sends the bearer token', async () => {
    const { client, calls } = mock({
      'POST http://x/api/v1/auth/login': () => ({
        body: {
          token: 't1',
          expiresAt: 1,
          person: { id: 'p1', username: 'dispatcher', role: 'dispatcher', name: 'D', createdAt: 0, disabled: false },
        },
      }),
      'GET http://x/api/v1/stations': () => ({ body: [{ id: 's1' }] }),
    });
    const r = await client.login('dispatcher', 'pw');
    expect(r.user.role).toBe('dispatcher');
    expect(JSON.parse(calls[0]!.body)).toEqual({ username: 'dispatcher', password: 'pw' });
    expect(await client.stations()).toEqual([{ id: 's1' }]);
    expect(calls[1]!.headers.get('authorization')).toBe('Bearer t1');
  });

  it('raises coded errors with their details', async () => {
    const { client } = mock({
      'POST http://x/api/v1/auth/login': () => ({
        status: 401,
        body: { code: 'HEAT_ERR_UNAUTHORIZED', message: 'bad', details: { why: 1 } },
      }),
    });
    await expect(client.login('a', 'b')).rejects.toMatchObject({
      status: 401,
      code: 'HEAT_ERR_UNAUTHORIZED',
      message: 'bad',
      details: { why: 1 },
    });
    await expect(client.login('a', 'b')).rejects.toBeInstanceOf(ApiError);
  });

  it('reads latest and history from GET /measurements with epoch-ms bounds; windows without a value are left out', async () => {
    const { client, calls } = mock({
      'GET http://x/api/v1/measurements': () => ({
        body: {
          scope: {},
          latest: [{ deviceId: 'm', kind: 'station_meter', ts: 5, fields: { pumpHz: 40 } }],
          history: [
            { ts: 2, value: 1 },
            { ts: 1, value: null },
            { ts: 0, value: 3 },
          ],
        },
      }),
    });
    expect((await client.latest({ stationId: 's1' }))[0]!.fields.pumpHz).toBe(40);
    expect(await client.history({ stationId: 's1', field: 'pumpHz', from: 0, to: 10, windowMs: 60_000 })).toEqual([
      { ts: 0, value: 3 },
      { ts: 2, value: 1 },
    ]);
    expect(calls[1]!.url).toContain('from=0&to=10');
  });

  it('posts order steps to /orders/:id/<step> and complaints to /orders, measurement requests to /measurement-requests', async () => {
    const order = (id: string) => ({ id, number: id.toUpperCase(), status: 'dispatched' });
    const { client, calls } = mock({
      'POST http://x/api/v1/orders/o1/dispatch': () => ({ body: order('o1') }),
      'POST http://x/api/v1/orders/o1/schedule-callback': () => ({ body: order('o1') }),
      'POST http://x/api/v1/orders': () => ({ status: 201, body: { linked: false, order: order('o2') } }),
      'POST http://x/api/v1/measurement-requests': () => ({ status: 201, body: { linked: false, order: order('o3') } }),
    });
    expect((await client.act('o1', { type: 'dispatch', assignee: 'w' })).status).toBe('dispatched');
    expect(JSON.parse(calls[0]!.body)).toEqual({ assignee: 'w' });
    await client.act('o1', { type: 'schedule_callback', at: 7 });
    expect(calls[1]!.url).toBe('http://x/api/v1/orders/o1/schedule-callback');
    expect((await client.residentRequest('a1', 'complaint', 'cold')).number).toBe('O2');
    expect(JSON.parse(calls[2]!.body)).toEqual({ apartmentId: 'a1', content: 'cold', channel: 'app' });
    expect((await client.residentRequest('a1', 'measurement', 'measure')).number).toBe('O3');
  });

  it('provisions a device and returns its secret once', async () => {
    const { client } = mock({
      'POST http://x/api/v1/devices': () => ({
        status: 201,
        body: { device: { id: 'd1', kind: 'room_sensor', enabled: true, intervalMin: 10 }, secret: 's3cret' },
      }),
    });
    expect(await client.provision({ id: 'd1', kind: 'room_sensor', roomId: 'r1' })).toEqual({
      device: { id: 'd1', kind: 'room_sensor', enabled: true, intervalMin: 10 },
      secret: 's3cret',
    });
  });

  it('uploads a recording as its own body and content type, not as JSON', async () => {
    const { client, calls } = mock({ 'POST http://x/api/v1/replay/files': () => ({ status: 201, body: { file: 'a.csv', rows: 1 } }) });
    await client.uploadRecording('ts,deviceId\n1,d1\n', 'a.csv');
    expect(calls[0]!.url).toBe('http://x/api/v1/replay/files?name=a.csv');
    expect(calls[0]!.headers.get('content-type')).toBe('text/csv');
    expect(calls[0]!.body).toBe('ts,deviceId\n1,d1\n');
  });
});
