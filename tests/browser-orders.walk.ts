/**
 * What tests/browser-orders.test.ts needs besides the screen: a browser session per person
 * whose clock is the platform's injected clock (Playwright's clock, so "now" on the page is the
 * platform's now), a device publishing with Debian's mosquitto_pub, and the N20 step forms
 * filled in as a person would.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ManualClock } from '../domain/clock.ts';

const run = promisify(execFile);
export const PASSWORD = 'heatwatch-demo'; // api/demo-people.ts DEMO_PASSWORD
export const WAIT_MS = 60_000;
/** The city's zone (policy.timeZone); the browser runs in it so datetime inputs read as local times. */
export const TZ = 'Asia/Shanghai';
const OFFSET_MS = 8 * 3_600_000;

/** A `datetime-local` value for `ms` in Beijing time, as a person types it. */
export const local = (ms: number): string => new Date(ms + OFFSET_MS).toISOString().slice(0, 16);

export interface Session {
  readonly ctx: BrowserContext;
  readonly page: Page;
  /** Problems seen: every 4xx/5xx answer of the API to this page. */
  readonly failures: string[];
  close(): Promise<void>;
}

/** Sign in on a fresh browser context whose clock reads the platform's clock. */
export async function signIn(
  browser: Browser,
  httpUrl: string,
  clock: ManualClock,
  username: string,
  mobile = false,
  password = PASSWORD,
): Promise<Session> {
  const ctx = await browser.newContext({
    timezoneId: TZ,
    locale: 'zh-CN',
    ...(mobile ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } : { viewport: { width: 1366, height: 900 } }),
  });
  await ctx.clock.install({ time: clock.now() });
  const page = await ctx.newPage();
  const failures: string[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/api/') && r.status() >= 400)
      failures.push(`${username}: ${r.request().method()} ${new URL(r.url()).pathname} → ${r.status()}`);
  });
  page.on('pageerror', (e) => failures.push(`${username}: page error ${e.message}`));
  await page.goto(httpUrl);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector(`[data-user="${username}"]`);
  return { ctx, page, failures, close: () => ctx.close() };
}

/** Open one order on the board (its N20 form and the steps this person may take). */
export async function openOrder(s: Session, httpUrl: string, orderId: string): Promise<void> {
  await s.page.goto(`${httpUrl}/#/orders/${encodeURIComponent(orderId)}`);
  await s.page.waitForSelector(`article.order[data-order="${orderId}"]`, { timeout: WAIT_MS });
}

/** Take one step: open its form, let `fill` fill it in, submit, and wait for the order's new status. */
export async function step(
  s: Session,
  name: string,
  status: string,
  fill: (p: Page) => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const p = s.page;
  await p.click(`article.order [data-step="${name}"]`);
  await p.waitForSelector(`article.order form[data-form="${name}"]`);
  await fill(p).catch((e: unknown) => {
    throw new Error(`${name}: ${String(e)}; seen so far: ${s.failures.join('; ')}`);
  });
  await p.click(`article.order [data-submit="${name}"]`);
  const alert = p.locator('article.order form [role=alert]');
  // Taken: the form closes; refused: the form says why (catalogue text).
  await Promise.race([
    p.waitForSelector(`article.order form[data-form="${name}"]`, { state: 'detached', timeout: WAIT_MS }),
    alert.waitFor({ timeout: WAIT_MS }).then(async () => {
      throw new Error(`${name}: the form answered "${await alert.textContent()}"`);
    }),
  ]);
  await p.waitForSelector(`article.order[data-status="${status}"]`, { timeout: WAIT_MS });
}

/** N23: the repair sheet as the field worker fills it in. */
export async function fillRepairSheet(p: Page, cause: string, startMs: number, endMs: number, work: string): Promise<void> {
  await p.selectOption('article.order select[name=cause]', cause);
  await p.fill('article.order textarea[name=content]', work);
  await p.fill('article.order input[name=start]', local(startMs));
  await p.fill('article.order input[name=end]', local(endMs));
  await p.fill('article.order input[name=workerName]', '王建国');
  await p.fill('article.order input[name=workerPhone]', '13800000001');
  await p.check('article.order form[data-form="resolve"] input[name=signed]');
}

/** A room sensor's backlog published as the device itself, with Debian's mosquitto_pub (QoS 1). */
export async function publishAsDevice(
  mqttPort: number,
  deviceId: string,
  secret: string,
  readings: readonly Record<string, number>[],
): Promise<void> {
  await run(
    'mosquitto_pub',
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(mqttPort),
      '-V',
      'mqttv311',
      '-q',
      '1',
      '-i',
      deviceId,
      '-u',
      deviceId,
      '-P',
      secret,
      '-t',
      `heat/v1/devices/${deviceId}/telemetry`,
      '-m',
      JSON.stringify(readings),
    ],
    { timeout: 20_000 },
  );
}

/** The text of a KPI tile as shown. */
export async function kpiTile(s: Session, httpUrl: string, kpi: string): Promise<string> {
  await s.page.goto(`${httpUrl}/#/kpis`);
  const tile = s.page.locator(`[data-kpi="${kpi}"] strong`);
  await tile.waitFor({ timeout: WAIT_MS });
  return (await tile.textContent())?.trim() ?? '';
}
