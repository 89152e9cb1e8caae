/**
 * Issue 13 finding 9, headers and the password form: every answer carries the helmet
 * headers (CSP with frame-ancestors 'none', nosniff, Referrer-Policy), refusals included;
 * signed-in answers are `Cache-Control: no-store`. Then real Chromium against the API serving
 * the dashboard build: not one CSP violation while a person signs in, is refused a weak and a
 * common new password in the form (translated reasons), changes it, signs out, and gets in
 * only with the new one.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../api-fixture.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'dashboard', 'dist');
let t: TestApi;
let url: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(join(dist, 'index.html'))) await build({ configFile: join(root, 'dashboard', 'vite.config.ts'), logLevel: 'warn' });
  t = await startTestApi({ dashboardDir: dist });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = t.app.server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('security headers', () => {
  it('are on pages, API answers and refusals; personal data is not stored by caches', async () => {
    for (const [path, auth] of [
      ['/', undefined],
      ['/api/v1/health', undefined],
      ['/api/v1/people', undefined],
      ['/api/v1/people', 'admin'],
      ['/%61pi/v1/people', undefined],
    ] as const) {
      const res = await fetch(`${url}${path}`, { headers: auth ? { authorization: `Bearer ${t.tokens[auth]}` } : {} });
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("default-src 'self'");
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
    }
    for (const path of ['/api/v1/people', '/api/v1/auth/me', '/api/v1/orders', '/api/v1/orders/export.csv', '/api/v1/apartments/b1-a11']) {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${t.tokens.admin}` } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe('no-store');
    }
  });
});

describe('the dashboard under that policy', () => {
  it('signs in, refuses weak new passwords with reasons, changes the password, and only the new one works', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.addInitScript(() => {
      (window as unknown as { csp: string[] }).csp = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { csp: string[] }).csp.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    const signIn = async (password: string) => {
      await page.fill('input[name=username]', 'dispatcher');
      await page.fill('input[name=password]', password);
      await page.click('form.login button[type=submit]');
    };
    await page.goto(url);
    await signIn('heatwatch-demo');
    await page.waitForSelector('[data-user="dispatcher"]');
    await page.waitForSelector('svg[data-ready="true"] [data-station]');

    await page.click('[data-testid=open-password]');
    const form = page.locator('[data-testid=change-password]');
    const attempt = async (next: string) => {
      await form.locator('input[name=currentPassword]').fill('heatwatch-demo');
      await form.locator('input[name=newPassword]').fill(next);
      await form.locator('input[name=confirmPassword]').fill(next);
      await form.locator('button[type=submit]').click();
    };
    await attempt('aaaaaaaaaaaa');
    await expect.poll(() => form.locator('[role=alert]').textContent()).toContain('字符种类太少');
    await attempt('password123');
    await expect.poll(() => form.locator('[role=alert]').textContent()).toContain('常见密码');
    await page.selectOption('[data-testid=lang]', 'en');
    await attempt('short');
    await expect.poll(() => form.locator('[role=alert]').textContent()).toContain('at least 10 characters');
    await attempt('winter-pump-ledger-7');
    await expect.poll(() => form.locator('[role=status]').textContent()).toContain('Password changed');

    await page.click('text=Sign out');
    await signIn('heatwatch-demo');
    await expect.poll(() => page.locator('form.login [role=alert]').textContent()).toContain('Wrong user name or password');
    await signIn('winter-pump-ledger-7');
    await page.waitForSelector('[data-user="dispatcher"]');
    expect(await page.evaluate(() => (window as unknown as { csp: string[] }).csp)).toEqual([]);
    await ctx.close();
  }, 120_000);
});
