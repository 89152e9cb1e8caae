/**
 * Issue 13 finding 1, the role side: the role × route matrix comes from each route's own
 * config (`app.heat.routes`), must equal the table in docs/api.md ("Route roles"), and is
 * then exercised: every route is called as every role (a real session each), and exactly
 * the listed roles get past the access check. Calls use ids that do not exist and bodies
 * that do not validate, so the allowed ones stop at 404/400 inside the route and nothing
 * changes.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../api/people.repository.ts';
import { startTestApi, type TestApi } from '../api-fixture.ts';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.close();
});

/** A signed-in person of each role in the fixture. */
const AS: Record<Role, string> = {
  admin: 'admin',
  dispatcher: 'dispatcher',
  station_staff: 'staff-o1',
  station_head: 'head-o1',
  manager: 'manager',
  deputy_gm: 'deputy-gm',
  general_manager: 'gm',
  engineer: 'engineer',
  resident: 'resident1',
};

const key = (method: string, url: string): string => `${method} ${url}`;

/** The "Route roles" table of docs/api.md: `| \`METHOD /url\` | role, role |`. */
function documented(): Map<string, string[]> {
  const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Route roles'), doc.indexOf('\n## ', doc.indexOf('## Route roles') + 5));
  const out = new Map<string, string[]>();
  for (const m of section.matchAll(/^\| `([A-Z]+) (\S+)` \| ([^|]+) \|$/gm))
    out.set(
      key(m[1]!, m[2]!),
      m[3]!
        .split(',')
        .map((s) => s.trim())
        .sort(),
    );
  return out;
}

function fromConfig(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of t.app.heat.routes) {
    if (!r.url.startsWith('/api/') && r.url !== '/metrics') continue;
    out.set(key(r.method, r.url), r.public ? ['public'] : [...(r.roles ?? [])].sort());
  }
  return out;
}

describe('role × route matrix', () => {
  it('is the same in the code and in docs/api.md', () => {
    const code = fromConfig();
    const docs = documented();
    expect(code.size).toBeGreaterThan(50);
    expect(Object.fromEntries(docs)).toEqual(Object.fromEntries(code));
    // No route is open to nobody by mistake: every non-public route lists at least one role.
    for (const [k, roles] of code) expect(roles.length, k).toBeGreaterThan(0);
  });

  it('lets exactly the listed roles past the access check, on every route', async () => {
    const matrix = fromConfig();
    const wrong: string[] = [];
    let calls = 0;
    for (const [k, allowed] of matrix) {
      const [method, url] = k.split(' ') as [string, string];
      const path = url.replace(/:kind/g, 'devices').replace(/:[A-Za-z]+/g, 'zz-none');
      for (const role of ROLES) {
        const res = await t.req(method, path, AS[role], method === 'GET' || method === 'DELETE' ? undefined : { zzUnknown: 1 });
        calls++;
        const body = res.headers['content-type']?.toString().includes('json')
          ? res.json<{ code?: string; details?: { reason?: string } }>()
          : {};
        const passed = res.statusCode !== 401 && !(res.statusCode === 403 && body.details?.reason === 'role');
        const shouldPass = allowed.includes('public') || allowed.includes(role);
        if (passed !== shouldPass) wrong.push(`${k} as ${role}: ${res.statusCode} ${res.body.slice(0, 80)}`);
        if (!shouldPass && res.statusCode !== 403) wrong.push(`${k} as ${role}: expected 403, got ${res.statusCode}`);
        if (url === '/api/v1/auth/logout' && passed) await t.relogin();
      }
    }
    expect(calls).toBe(matrix.size * ROLES.length);
    expect(wrong, wrong.join('\n')).toEqual([]);
  }, 180_000);
});
