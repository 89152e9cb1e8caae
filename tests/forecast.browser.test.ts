/**
 * The dispatcher's "tomorrow" view in headless Chromium (issue #20), as a user has it: the
 * API serving the built dashboard, stored history, a forecast an engineer posted over REST;
 * the dispatcher signs in, switches the map to Tomorrow, picks the station and reads which
 * apartment is likely to be cold and when.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../domain/clock.ts';
import { T0, startTestApi, type TestApi } from './api-fixture.ts';
import { seedStationHistory } from './forecast.fixture.ts';
import { DASHBOARD_DIST, buildDashboard, launchChromium } from './harness/browser.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = join(root, 'tests', 'artifacts');
let t: TestApi;
let browser: Browser;
let url = '';
const hourAt = Math.floor(T0 / HOUR_MS) * HOUR_MS;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await buildDashboard();
  t = await startTestApi({ dashboardDir: DASHBOARD_DIST });
  await seedStationHistory(t.store, hourAt);
  const f = await t.req('POST', '/api/v1/forecasts', 'engineer', {
    city: 'beijing',
    issuedAt: hourAt,
    hours: Array.from({ length: 30 }, (_, k) => ({ ts: hourAt + k * HOUR_MS, outdoorTemp: -3 - 0.1 * k, spreadC: 0.4 + 0.08 * k })),
  });
  expect(f.statusCode).toBe(201);
  url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('tomorrow view', () => {
  it('shows the station at risk and the apartment expected below the standard, in both languages', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(url);
    await page.fill('input[name=username]', 'dispatcher');
    await page.fill('input[name=password]', 'heatwatch-demo');
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('[data-user="dispatcher"]');
    await page.click('[data-toggle="tomorrow"]');
    const s1 = page.locator('[data-view="tomorrow"] [data-station="s1"]');
    await expect.poll(() => s1.getAttribute('data-risk'), { timeout: 30_000 }).toBe('high');
    // Station s2 has no history: it says "not enough data" instead of guessing.
    expect(await page.locator('[data-view="tomorrow"] [data-station="s2"]').getAttribute('data-risk')).toBe('unknown');
    await s1.click();
    const row = page.locator('[data-risk-apartment="b2-a22"]');
    await row.waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toMatch(/\d+ %.*±/);
    expect(await page.locator('[data-risk-apartment="b1-a11"]').count()).toBe(0);
    await page.screenshot({ path: join(artifacts, 'forecast-tomorrow-zh.png'), fullPage: true });
    expect(await page.textContent('[data-view="tomorrow"] aside')).toContain('明日');
    await page.selectOption('[data-testid=lang]', 'en');
    await page.waitForSelector('text=Tomorrow: predicted cold risk');
    await page.screenshot({ path: join(artifacts, 'forecast-tomorrow.png'), fullPage: true });
  });
});
