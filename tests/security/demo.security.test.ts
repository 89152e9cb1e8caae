/**
 * Issue 13 finding 10: DEMO defaulted to 1 and the server listened on every interface, so a
 * default install served accounts with a published password to the network. Now a default
 * install binds to loopback, asking for another address with DEMO on is a configuration
 * error, and an API that would listen beyond loopback refuses to start while any demo
 * account still signs in with the demo password (DEMO=0 over an old demo DATA_DIR).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../domain/config.ts';
import { startTestApi } from '../api-fixture.ts';

describe('demo accounts never leave this machine', () => {
  it('binds a default install (DEMO on) to loopback, and refuses another HOST with DEMO on, loudly', () => {
    expect(parseConfig({}).host).toBe('127.0.0.1');
    expect(parseConfig({ DEMO: '1', HOST: '::1' }).host).toBe('::1');
    expect(parseConfig({ DEMO: '0' }).host).toBe('0.0.0.0');
    expect(parseConfig({ DEMO: '0', HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
    for (const HOST of ['0.0.0.0', '10.0.0.5', '::', 'heat.example.cn']) {
      const err = (() => {
        try {
          parseConfig({ HOST });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, HOST).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/DEMO=1 would serve the demo accounts/);
    }
  });

  it('refuses to serve beyond loopback while demo accounts keep the published password, and starts once they are dealt with', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heat-demo-'));
    const outside = parseConfig({ DATA_DIR: dir, DEMO: '0', HOST: '0.0.0.0', ADMIN_PASSWORD: 'admin-test-password' });
    // The fixture seeds the demo people; an API for 0.0.0.0 over them must not start.
    await expect(startTestApi({ config: outside })).rejects.toThrow(
      /refusing to serve on HOST=0\.0\.0\.0: .*dispatcher.*published demo password/,
    );

    // The same records with the demo accounts' passwords changed: it starts.
    const t = await startTestApi(
      {},
      {
        prepare: async (registry) => {
          const { PeopleRepository } = await import('../../api/people.repository.ts');
          const people = new PeopleRepository(registry.db);
          for (const p of people.list()) if (p.username !== 'admin') await people.setPassword(p.id, `own-password-of-${p.username}`);
          return { config: outside };
        },
      },
    ).catch((e: unknown) => e);
    // relogin() inside the fixture uses the demo password, so the fixture itself fails to sign in — after the API started.
    expect(String(t)).toMatch(/login dispatcher: 401/);
  }, 60_000);
});
