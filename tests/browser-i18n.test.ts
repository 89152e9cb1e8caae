/**
 * Every route of every role, in zh-CN and in English, in Chromium against the demo platform
 * (its pre-rolled morning gives incidents, orders and evidence to show; a replay run gives the
 * console its map and station view): the walk fails on a text key the tables lack (the
 * dashboard records each miss on window.__heatwatchI18nMissing), on a raw code on screen — an
 * incident kind, cause, status or fault as its code, or a subject as "apartment b0001-…"
 * instead of its address — and, in zh-CN, on any Latin word that is not a unit, a norm
 * reference or a marked id: an untranslated KPI label (city, off-001, st-0001), response time
 * (answer, onSite, restore), evidence key or English leftover. Ids that are the thing (a device
 * number, a topic) are marked translate="no" where they are drawn.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CauseClassSchema, IncidentKindSchema } from '../domain/incident.schema.ts';
import { OrderStatusSchema } from '../domain/orders/order.schema.ts';
import { STATION_FAULTS } from '../domain/rules/station.rule.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { waitFor } from './harness/ports.ts';
import { buildDashboard, launchChromium } from './harness/browser.ts';

const PASSWORD = 'heatwatch-demo';
const values = (schema: unknown): string[] => {
  const s = schema as { enum?: string[]; anyOf?: { const: string }[] };
  return s.enum ?? s.anyOf!.map((x) => x.const);
};
/** Codes that must never reach the screen as such (the multi-word ones: single words like "open" are ordinary English). */
const CODES = [...values(IncidentKindSchema), ...values(CauseClassSchema), ...values(OrderStatusSchema), ...STATION_FAULTS].filter((c) =>
  c.includes('_'),
);
const RAW_SUBJECT = /\b(apartment|building|station|source|device) [a-z]{1,3}-?\d{2,}/;
/**
 * Latin words a zh-CN screen may show: units (°C, MPa, kW, GJ, Hz, V, m³/h, %), the norms'
 * references (N20, §E.4), the file formats the console names (CSV, InfluxDB line protocol
 * with its ts/deviceId columns), and the language switch's "English".
 */
const ZH_LATIN_ALLOWED = /^(C|MPa|kW|GJ|Hz|V|m|h|MB|N\d+|E\.\d+|CSV|JSON|InfluxDB|ts|deviceId|English)$/;

let platform: TestPlatform;
let browser: Browser;

beforeAll(async () => {
  await buildDashboard();
  platform = await startTestPlatform({}); // the demo day: fresh data dir, pre-rolled morning
  browser = await launchChromium();
  // A finished replay run, so the console shows a run's map and station view.
  const token = await login(platform.httpUrl, 'engineer', PASSWORD);
  const r = await fetch(`${platform.httpUrl}/api/v1/replay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scenario: 'pump-failure', speed: 10_000 }),
  });
  expect(r.status).toBe(202);
  await waitFor(
    async () =>
      (
        (await (await fetch(`${platform.httpUrl}/api/v1/replay`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          status: string;
        }[]
      ).every((x) => x.status !== 'running'),
    { timeoutMs: 120_000, what: 'replay finished' },
  );
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

/**
 * Names fill in as their records arrive (lib/names.svelte.ts fetches a building or apartment on
 * first use), so a screen is read until it is clean or SETTLE_MS have passed; what is still
 * wrong then is a problem.
 */
const SETTLE_MS = 5000;

async function check(page: Page, where: string, problems: string[]): Promise<void> {
  // Let the view load its data (a spinner or the state text first, then content).
  await page.waitForLoadState('networkidle').catch(() => undefined);
  const until = Date.now() + SETTLE_MS;
  for (;;) {
    await page.waitForTimeout(300);
    const found: string[] = [];
    // A missing key is reported once by the dashboard: it counts whenever it was seen.
    await read(page, where, found, problems);
    if (found.length === 0 || Date.now() > until) {
      problems.push(...found);
      return;
    }
  }
}

async function read(page: Page, where: string, problems: string[], missingKeys: string[]): Promise<void> {
  const { text, words, missing } = await page.evaluate(() => {
    // Everything on screen counts, an order's content (N20 内容) too: the system writes a proactive
    // order's in Chinese (domain/orders/resident-texts.ts), and the demo's people write Chinese.
    const body = document.body.cloneNode(true) as HTMLElement;
    document.documentElement.append(body);
    body.style.cssText = 'position:absolute;left:-99999px;top:0;width:1400px';
    const t = body.innerText;
    // Ids marked as such (translate="no") are not words.
    for (const el of body.querySelectorAll('[translate="no"]')) el.remove();
    const w = body.innerText;
    body.remove();
    return { text: t, words: w, missing: ((globalThis as { __heatwatchI18nMissing?: string[] }).__heatwatchI18nMissing ?? []).splice(0) };
  });
  for (const m of missing) missingKeys.push(`${where}: no text for ${m}`);
  // An incident id (kind:subject:start) is an identifier, not a word: only the bare code counts.
  for (const c of CODES) if (new RegExp(`(^|[^\\w.:])${c}([^\\w:]|$)`).test(text)) problems.push(`${where}: raw code ${c} on screen`);
  const raw = RAW_SUBJECT.exec(text);
  if (raw) problems.push(`${where}: raw subject "${raw[0]}"`);
  if (where.startsWith('zh-CN')) {
    const latin = new Set(
      [...words.matchAll(/[A-Za-z][A-Za-z0-9_.'-]*/g)].map((m) => m[0].replace(/[.']+$/, '')).filter((w) => !ZH_LATIN_ALLOWED.test(w)),
    );
    if (latin.size > 0) problems.push(`${where}: not Chinese: ${[...latin].slice(0, 12).join(', ')}`);
  }
}

const DEEPER: readonly (readonly string[])[] = [
  ['[data-incident] a'],
  ['[data-order-card]'],
  ['[data-attention] a'],
  ['[data-toggle="tomorrow"]'],
  ['[data-run] a', '[data-replay] [data-attention] a'],
];

async function walk(username: string, locale: 'zh-CN' | 'en'): Promise<string[]> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await ctx.addInitScript((l) => localStorage.setItem('heatwatch.locale', l), locale);
  const page = await ctx.newPage();
  const problems: string[] = [];
  await page.goto(platform.httpUrl);
  await check(page, `${locale} login`, problems);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector(`[data-user="${username}"]`);
  const routes = await page.$$eval('[data-nav]', (as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href')!));
  for (const r of routes) {
    await page.goto(`${platform.httpUrl}/${r}`);
    await check(page, `${locale} ${username} ${r}`, problems);
    // Deeper where the route has details: the first incident, order and station; tomorrow's
    // map; the replay run and its station.
    for (const chain of DEEPER) {
      if ((await page.locator(chain[0]!).count()) === 0) continue;
      for (const sel of chain) {
        const next = page.locator(sel).first();
        await next.waitFor({ timeout: 10_000 });
        await next.click();
        await check(page, `${locale} ${username} ${r} → ${chain.slice(0, chain.indexOf(sel) + 1).join(' → ')}`, problems);
      }
      await page.goto(`${platform.httpUrl}/${r}`);
    }
  }
  await ctx.close();
  return problems;
}

describe('every route in both languages', () => {
  for (const locale of ['zh-CN', 'en'] as const) {
    it(`shows no missing text and no raw code in ${locale}`, async () => {
      const problems: string[] = [];
      for (const user of ['dispatcher', 'manager', 'head-off-001', 'staff-off-001', 'engineer', 'resident1', 'resident3'])
        problems.push(...(await walk(user, locale)));
      expect(problems).toEqual([]);
    }, 600_000);
  }
});
