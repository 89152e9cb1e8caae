/**
 * Issue 13 finding 1 (auth bypass → anonymous admin): the access check must run on the
 * *routed* request. Every operation of the OpenAPI document is sent anonymously (and with a
 * forged token) over a real socket in every spelling a router may decode or normalise:
 * percent-encoded letters, absolute-form targets, dot segments, case variants, doubled
 * and trailing slashes. Each carries a body that would succeed for an allowed caller and
 * real ids in its path. Every answer must be 401 or 404 — never data, never a 2xx — and
 * afterwards nothing has changed: people, devices, secrets, orders, outages, sessions and
 * the audit log read back the same. Refusals are audited and counted in the metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  concretePath,
  effectiveBody,
  openApiRoutes,
  rawRequest,
  snapshot,
  startSecurityApi,
  type DocRoute,
  type SecurityApi,
} from './security-fixture.ts';

let t: SecurityApi;
let routes: DocRoute[];
beforeAll(async () => {
  t = await startSecurityApi();
  routes = await openApiRoutes(t.port);
});
afterAll(async () => {
  await t?.close();
});

const PUBLIC = new Set(['GET /api/v1/health', 'POST /api/v1/auth/login']);

/** Spellings of one target that a router might take for the same route. */
export function variants(path: string): string[] {
  const [, first, ...rest] = path.split('/'); // '', 'api', 'v1', ...
  const tail = rest.join('/');
  const last = path.split('/').at(-1)!;
  const encLast = `${path.slice(0, path.length - last.length)}${last.slice(0, -1)}%${last.charCodeAt(last.length - 1).toString(16)}`;
  return [
    `/%61pi/${tail}`,
    `/%41PI/${tail}`,
    `/api/%76%31/${rest.slice(1).join('/')}`,
    encLast,
    `http://x${path}`,
    `http://x/%61pi/${tail}`,
    `HTTP://127.0.0.1${path}`,
    `/api/v1/../v1/${rest.slice(1).join('/')}`,
    `/api/./v1/${rest.slice(1).join('/')}`,
    `/x/../${first}/${tail}`,
    `/api/v1/%2e%2e/v1/${rest.slice(1).join('/')}`,
    `/api/v1/%2E/${rest.slice(1).join('/')}`,
    `/API/${tail}`,
    `/Api/${tail.replace(/^v1/, 'V1')}`,
    path.toUpperCase(),
    `//${first}/${tail}`,
    `/${first}//${tail}`,
    `${path}/`,
    `${path};x=1`,
    `${path}?%61=1`,
  ];
}

describe('default-deny on the routed request', () => {
  it('lists the API in the OpenAPI document', () => {
    expect(routes.length).toBeGreaterThan(40);
    const served = new Set(
      t.app.heat.routes.filter((r) => r.url.startsWith('/api/v1/')).map((r) => `${r.method} ${r.url.replace(/:([A-Za-z]+)/g, '{$1}')}`),
    );
    for (const r of routes) expect(served.has(`${r.method} ${r.path}`), `${r.method} ${r.path}`).toBe(true);
  });

  it('answers 401 or 404 to every spelling of every route, anonymous or forged, and changes nothing', async () => {
    const before = await snapshot(t);
    const refusedBefore = t.app.heat.metrics();
    const leaks: string[] = [];
    let probes = 0;
    let unauthenticated = 0;
    for (const r of routes) {
      const path = concretePath(t, r.path);
      const isPublic = PUBLIC.has(`${r.method} ${r.path}`);
      const b = r.method === 'GET' || r.method === 'DELETE' ? undefined : effectiveBody(r.path);
      const methods = r.method === 'GET' ? ['GET', 'HEAD'] : [r.method];
      for (const method of methods) {
        for (const target of [path, ...variants(path)]) {
          for (const auth of [{}, { authorization: 'Bearer forged-token' }] as Record<string, string>[]) {
            const res = await rawRequest(t.port, method, target, b?.body, { ...(b ? { 'content-type': b.contentType } : {}), ...auth });
            probes++;
            if (isPublic) continue;
            if (res.status === 401) unauthenticated++;
            const ok = res.status === 401 || res.status === 404;
            const coded = method === 'HEAD' || /"code":"HEAT_ERR_(UNAUTHENTICATED|NOT_FOUND)"/.test(res.text);
            if (!ok || !coded) leaks.push(`${method} ${target} → ${res.status} ${res.text.slice(0, 80)}`);
          }
        }
        // The canonical spelling of a non-public route is always a 401 (the route exists).
        if (!isPublic)
          expect(
            (await rawRequest(t.port, method, path, b?.body, b ? { 'content-type': b.contentType } : {})).status,
            `${method} ${path}`,
          ).toBe(401);
      }
    }
    expect(probes).toBeGreaterThan(2000);
    expect(leaks, leaks.slice(0, 20).join('\n')).toEqual([]);

    // Nothing changed, and the bypass's admin does not exist.
    expect(await snapshot(t)).toEqual(before);
    const eve = await rawRequest(
      t.port,
      'POST',
      '/api/v1/auth/login',
      JSON.stringify({ username: 'eve', password: 'eve-owns-this-now-42' }),
    );
    expect(eve.status).toBe(401);

    // Refusals are counted and audited (the audit of refusals is capped per address, see docs/security.md).
    const m = t.app.heat.metrics();
    expect(m.refused401! - (refusedBefore.refused401 ?? 0)).toBeGreaterThanOrEqual(unauthenticated);
    const audit = (await t.req('GET', '/api/v1/audit?entity=access&limit=5000', 'admin')).json<
      { action: string; entityId: string; detail: { status: number } }[]
    >();
    expect(audit.length).toBeGreaterThan(10);
    expect(audit.every((e) => e.action === 'refused' && e.detail.status === 401)).toBe(true);
    const prom = await rawRequest(t.port, 'GET', '/metrics');
    expect(prom.text).toMatch(/heat_api_http_refused_total\{status="401"\} [1-9]\d*/);
  }, 300_000);

  it('refuses a signed-in role the route does not list before anything runs, and audits it', async () => {
    // A new minute: the previous test used up this address's audited refusals for the last one.
    t.clock.advance(60_000);
    const before = await snapshot(t);
    const res = await rawRequest(t.port, 'POST', '/%61pi/v1/people', effectiveBody('/api/v1/people')!.body, {
      authorization: `Bearer ${t.tokens.resident1}`,
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'HEAT_ERR_FORBIDDEN' });
    const abs = await rawRequest(t.port, 'POST', `http://x/api/v1/people/p-admin/disable`, '{}', {
      authorization: `Bearer ${t.tokens.dispatcher}`,
    });
    expect(abs.status).toBe(403);
    expect(await snapshot(t)).toEqual(before);
    const audit = (await t.req('GET', '/api/v1/audit?entity=access&limit=5', 'admin')).json<
      { actor: string; detail: { status: number } }[]
    >();
    expect(audit[0]).toMatchObject({ actor: 'dispatcher', detail: { status: 403 } });
    expect(t.app.heat.metrics().refused403).toBeGreaterThanOrEqual(2);
  });
});
