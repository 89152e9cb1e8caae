/**
 * Shared by the security tests: the API of tests/api-fixture.ts listening on a real port,
 * a raw HTTP client that sends the request target byte for byte (encoded, absolute-form and
 * dot-segment targets are not normalised on the way), the route list from the OpenAPI
 * document, concrete ids and bodies that *would* succeed (so a request that slipped past
 * the checks would leave a trace), and a snapshot of everything a request could change.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApi, T0, type TestApi } from '../api-fixture.ts';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** One HTTP/1.1 request with the target exactly as given (Node sends `path` verbatim). */
export function rawRequest(
  port: number,
  method: string,
  target: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path: target,
        headers: {
          host: `127.0.0.1:${port}`,
          connection: 'close',
          ...(body !== undefined
            ? { 'content-type': headers['content-type'] ?? 'application/json', 'content-length': String(Buffer.byteLength(body)) }
            : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export interface DocRoute {
  readonly method: string;
  /** OpenAPI path, `{id}` style. */
  readonly path: string;
}

/** Every operation of the OpenAPI document the API serves. */
export async function openApiRoutes(port: number): Promise<DocRoute[]> {
  const res = await rawRequest(port, 'GET', '/api/docs/json');
  if (res.status !== 200) throw new Error(`OpenAPI document: ${res.status}`);
  const doc = JSON.parse(res.text) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map((m) => ({ method: m.toUpperCase(), path })),
  );
}

export interface SecurityApi extends TestApi {
  readonly port: number;
  /** An order on b1-a11 (office o1) and one on b3-a11 (office o2). */
  readonly orderO1: string;
  readonly orderO2: string;
}

export async function startSecurityApi(): Promise<SecurityApi> {
  const t = await startTestApi();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (t.app.server.address() as AddressInfo).port;
  const o1 = await t.req('POST', '/api/v1/orders', 'dispatcher', { apartmentId: 'b1-a11', content: 'cold in the bedroom' });
  const o2 = await t.req('POST', '/api/v1/orders', 'dispatcher', { apartmentId: 'b3-a11', content: 'cold in the kitchen' });
  if (o1.statusCode !== 201 || o2.statusCode !== 201) throw new Error(`orders: ${o1.body} ${o2.body}`);
  return { ...t, port, orderO1: o1.json<{ order: { id: string } }>().order.id, orderO2: o2.json<{ order: { id: string } }>().order.id };
}

/** Real ids for path parameters, so a request that got through would act on a real record. */
export function concretePath(t: SecurityApi, path: string): string {
  return path.replace(/\/([a-z-]+)\/\{([A-Za-z]+)\}/g, (_m, coll: string, param: string) => {
    const id =
      param === 'kind'
        ? 'devices'
        : coll === 'people'
          ? 'p-admin'
          : coll === 'devices'
            ? 'sm-s1'
            : coll === 'orders'
              ? t.orderO1
              : coll === 'stations'
                ? 's1'
                : coll === 'buildings'
                  ? 'b1'
                  : coll === 'apartments'
                    ? 'b1-a11'
                    : coll === 'incidents'
                      ? 'i-1'
                      : 'x1';
    return `/${coll}/${id}`;
  });
}

/** A body that an allowed caller would get a 2xx for (or as close as the route allows). */
export function effectiveBody(path: string): { body: string; contentType: string } | undefined {
  const json = (v: unknown) => ({ body: JSON.stringify(v), contentType: 'application/json' });
  if (path === '/api/v1/people') return json({ username: 'eve', name: 'Eve', role: 'admin', password: 'eve-owns-this-now-42' });
  if (path === '/api/v1/devices') return json({ id: 'evil-meter', kind: 'station_meter', stationId: 's1' });
  if (path === '/api/v1/outages')
    return json({
      scopeType: 'station',
      scopeId: 's1',
      startsAt: T0 + 3 * 86_400_000,
      endsAt: T0 + 4 * 86_400_000,
      reason: 'anonymous outage',
    });
  if (path === '/api/v1/orders' || path === '/api/v1/measurement-requests')
    return json({ apartmentId: 'b2-a12', content: 'anonymous complaint' });
  if (path === '/api/v1/import/{kind}')
    return { body: 'id,kind,roomId,stationId,gatewayId,intervalMin\nevil-import,station_meter,,s2,,5\n', contentType: 'text/csv' };
  if (path === '/api/v1/replay') return json({ scenario: 'cold-snap', speed: 10 });
  if (path === '/api/v1/auth/password') return json({ currentPassword: 'x', newPassword: 'a-new-password-of-eve' });
  if (path.endsWith('/cancel') || path.endsWith('/note')) return json({ note: 'anonymous note' });
  if (path.endsWith('/rating')) return json({ satisfaction: 5 });
  if (path.endsWith('/callback')) return json({ result: 'anonymous', satisfaction: 5 });
  if (path.endsWith('/resolve')) return json({ cause: 'station' });
  if (path.endsWith('/not-home')) return json({ note: 'x', newAppointmentAt: T0 + 86_400_000 });
  return json({});
}

/** Everything a bypass could change, read back as the admin over REST and from the registry. */
export async function snapshot(t: SecurityApi): Promise<unknown> {
  const get = async (url: string) => {
    const r = await t.req('GET', url, 'admin');
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
    return r.json<unknown>();
  };
  const audit = (await get('/api/v1/audit?limit=5000')) as { entity: string }[];
  return {
    people: await get('/api/v1/people'),
    devices: await get('/api/v1/devices?limit=1000'),
    orders: await get('/api/v1/orders?limit=5000'),
    outages: await get('/api/v1/outages'),
    // Refusals are audited on purpose; every other entry is a change.
    audit: audit.filter((e) => e.entity !== 'access'),
    secrets: ['sm-s1', 'sm-s2', 'rs-b1-a11'].map((id) => t.registry.verifyDevice(id, `secret-${id}`)),
    sessions: (t.registry.db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n,
  };
}
