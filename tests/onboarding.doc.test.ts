/**
 * docs/onboarding.md, followed word for word (issue 14): the platform starts with the
 * environment of the doc's `sh server` block (here in-process on free ports instead of
 * `npm start`), then every other `sh` block of the doc runs, in order, as one bash script
 * with only curl, sed and Debian's mosquitto_pub — the doc's own checks (grep) must succeed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';

const run = promisify(execFile);
const doc = readFileSync(new URL('../docs/onboarding.md', import.meta.url), 'utf8');
const blocks = [...doc.matchAll(/^```(sh[^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({ info: m[1]!.trim(), code: m[2]! }));
const server = blocks.find((b) => b.info === 'sh server')!;
/** `DEMO=0 ADMIN_PASSWORD='x' npm start` → { DEMO: '0', ADMIN_PASSWORD: 'x' } */
const serverEnv = Object.fromEntries([...server.code.matchAll(/([A-Z_]+)=('([^']*)'|(\S+))/g)].map((m) => [m[1]!, m[3] ?? m[4]!]));

let p: TestPlatform;
let dir: string;
beforeAll(async () => {
  expect(server.code.trim()).toMatch(/ npm start$/);
  p = await startTestPlatform({ demo: serverEnv.DEMO !== '0', env: serverEnv });
  dir = mkdtempSync(join(tmpdir(), 'onboarding-doc-'));
}, 120_000);
afterAll(async () => {
  await p?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('docs/onboarding.md', () => {
  it('takes an empty platform to a working city, block by block', async () => {
    expect(serverEnv.DEMO).toBe('0');
    expect(p.registry.isEmpty()).toBe(true);
    const script = ['set -euo pipefail', ...blocks.filter((b) => b.info === 'sh').map((b) => b.code)].join('\n');
    const { stdout } = await run('bash', ['-c', script], {
      cwd: dir,
      timeout: 120_000,
      maxBuffer: 10 * 1024 * 1024,
      env: { PATH: process.env.PATH, HOME: dir, API: `${p.httpUrl}/api/v1`, MQTT_HOST: '127.0.0.1', MQTT_PORT: String(p.ports.mqtt) },
    });
    // The doc's own checks printed what they found.
    expect(stdout).toContain('"reason":"timestamp_without_offset"');
    expect(stdout).toContain('"kind":"apartment_cold","subjectType":"apartment","subjectId":"b-1-101"');
    expect(stdout).toContain('"cause":"in_home"');
    expect(stdout).toContain('"apartmentId":"b-1-101"');
    expect(stdout).toContain('HEAT_ERR_IMPORT_INVALID');
    // And nothing else was raised: one cold apartment, no sensor or station noise.
    const token = (await login(p.httpUrl, 'admin', serverEnv.ADMIN_PASSWORD!)).toString();
    const open = (
      await p.api.inject({ method: 'GET', url: '/api/v1/incidents?status=open', headers: { authorization: `Bearer ${token}` } })
    ).json<{ kind: string; subjectId: string }[]>();
    expect(open.map((i) => `${i.kind}:${i.subjectId}`)).toEqual(['apartment_cold:b-1-101']);
  }, 180_000);
});
