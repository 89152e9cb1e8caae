/**
 * Browser tests (issue 7): headless Chromium walks each role's main path against the REAL
 * platform (broker + ingest + rules + API serving dashboard/dist + simulated fleet), saving
 * screenshots to tests/artifacts/ as CI output.
 *
 * Time: the platform and the fleet share one clock running 60× wall time, so the rules see
 * the 10 minutes of a confirmed station fault (policy.station.faultConfirmMin) in ~10 s. No
 * sleeps: every step waits for a visible condition.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../domain/clock.ts';
import type { Order } from '../domain/orders/order.ts';
import { policyForCity } from '../domain/policy.ts';
import { demoCity } from '../simulators/city.generator.ts';
import { startFleet, type Fleet } from '../simulators/fleet.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { buildDashboard, launchChromium } from './harness/browser.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = join(root, 'tests', 'artifacts');
const PASSWORD = 'heatwatch-demo'; // api/demo-people.ts DEMO_PASSWORD
/** Model seconds per wall second for platform and fleet alike. */
const SPEED = 60;
const WAIT_MS = 90_000;

/** Wall time compressed SPEED×, shared by every service and the fleet. */
class FastClock implements Clock {
  readonly #t0 = Date.now();
  now(): number {
    return this.#t0 + (Date.now() - this.#t0) * SPEED;
  }
}

let platform: TestPlatform;
let fleet: Fleet;
let browser: Browser;
const clock = new FastClock();

async function signIn(ctx: BrowserContext, username: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(platform.httpUrl);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector(`[data-user="${username}"]`);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await buildDashboard();
  platform = await startTestPlatform({ demo: true, fleetSpeed: false, clock });
  fleet = startFleet({ city: demoCity().city, secrets: platform.deviceSecrets, mqttUrl: platform.mqttUrl, speed: 1, clock });
  await fleet.ready;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await platform?.stop();
});

describe('dispatcher', () => {
  it('sees a live meter value, a station turn red when its pump fails, and dispatches the order', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await signIn(ctx, 'dispatcher');
    await page.waitForSelector('svg[data-ready="true"] [data-station]');
    // A station not already in alarm, with meter data on the map.
    await page.waitForSelector('[data-station][data-level="ok"], [data-station][data-level="watch"]', { timeout: WAIT_MS });
    const stationId = await page.getAttribute('[data-station][data-level="ok"], [data-station][data-level="watch"]', 'data-station');
    expect(stationId).toBeTruthy();
    await shot(page, 'dispatcher-1-map');

    // Station view, opened from the keyboard (markers are focusable buttons): the pump frequency shown is the live one.
    await page.focus(`[data-station="${stationId}"]`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-field="pumpHz"] [data-value]', { timeout: WAIT_MS });
    const before = Number(await page.getAttribute('[data-field="pumpHz"] [data-value]', 'data-value'));
    expect(before).toBeGreaterThanOrEqual(policyForCity(platform.config.city).station.pumpStoppedHz); // a running pump

    fleet.injectFault({ kind: 'pump_failure', stationId: stationId!, at: clock.now() });

    // Live over socket.io: the value drops, then the rules confirm the fault and the badge turns red.
    await page.waitForFunction(
      (b) => Number(document.querySelector('[data-field="pumpHz"] [data-value]')?.getAttribute('data-value')) < b,
      before,
      { timeout: WAIT_MS },
    );
    await page.waitForSelector('[data-station-level="alarm"]', { timeout: WAIT_MS });
    await shot(page, 'dispatcher-2-station-fault');

    await page.click('a[href="#/map"]');
    const marker = page.locator(`[data-station="${stationId}"]`);
    await expect.poll(() => marker.getAttribute('data-level'), { timeout: WAIT_MS }).toBe('alarm');
    await expect.poll(() => marker.locator('circle').getAttribute('fill')).toBe('#d7301f');
    await shot(page, 'dispatcher-3-map-red');

    // Incidents: the station fault with its cause class and evidence.
    await page.click('[data-nav="incidents"]');
    const incident = page.locator(`[data-incident^="station_fault:${stationId}:"]`).first();
    await incident.waitFor({ timeout: WAIT_MS });
    await incident.locator('a').click();
    await page.waitForSelector('[data-cause="station"]', { timeout: WAIT_MS });
    expect(await page.locator('.evidence tr').count()).toBeGreaterThan(0);
    await shot(page, 'dispatcher-4-incident');

    // The incident opened an order: dispatch it from the board with the N20 form.
    await page.click('[data-nav="orders"]');
    const card = page.locator(`[data-column="new"] [data-order-station="${stationId}"]`).first();
    await card.waitFor({ timeout: WAIT_MS });
    await card.click();
    // The dispatcher sees the desk's steps only (dispatch, cancel, note), opens the dispatch form.
    await page.click('article.order [data-step="dispatch"]');
    await page.fill('article.order input[name=assignee]', '王师傅');
    await page.fill('article.order input[name=supervisor]', '李主管');
    await page.click('article.order [data-submit="dispatch"]');
    await page.waitForSelector('article.order[data-status="dispatched"]', { timeout: WAIT_MS });
    const orderId = await page.getAttribute('article.order', 'data-order');
    await shot(page, 'dispatcher-5-order-dispatched');

    const token = await login(platform.httpUrl, 'dispatcher', PASSWORD);
    const order = (await (
      await fetch(`${platform.httpUrl}/api/v1/orders/${orderId}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as Order;
    expect(order).toMatchObject({ status: 'dispatched', stationId, assignee: '王师傅', supervisor: '李主管' });

    // Print view: three copies of one record (N20).
    await page.goto(`${platform.httpUrl}/#/orders/${orderId}/print`);
    await expect.poll(() => page.locator('section.copy').count()).toBe(3);
    await shot(page, 'dispatcher-6-print');
    await ctx.close();
  }, 240_000);
});

describe('resident', () => {
  it('sees the temperature of their rooms on a phone and files a complaint', async () => {
    // A demo resident whose apartment has room sensors.
    const sensed = new Set(platform.registry.listDevices({ kind: 'room_sensor' }).map((d) => d.roomId));
    const account = platform.demoAccounts.find(
      (a) => a.role === 'resident' && a.apartmentId && platform.registry.listRooms(a.apartmentId).some((r) => sensed.has(r.id)),
    );
    expect(account).toBeDefined();
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await signIn(ctx, account!.username);
    await page.waitForSelector('[data-room-temp]', { timeout: WAIT_MS });
    const temp = Number(await page.getAttribute('[data-room-temp]', 'data-room-temp'));
    expect(temp).toBeGreaterThan(0);
    expect(temp).toBeLessThan(40);
    await shot(page, 'resident-1-home');

    await page.check('input[name=kind][value=complaint]');
    await page.fill('textarea[name=describe]', '卧室暖气不热');
    await page.click('form.request button[type=submit]');
    await page.waitForSelector('[data-sent]', { timeout: WAIT_MS });
    const number = await page.getAttribute('[data-sent]', 'data-sent');
    await page.waitForSelector('[data-my-order]', { timeout: WAIT_MS });
    await shot(page, 'resident-2-complaint');

    const token = await login(platform.httpUrl, account!.username, PASSWORD);
    const mine = (await (
      await fetch(`${platform.httpUrl}/api/v1/orders`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as Order[];
    // A new order, or (N4) the open order of this apartment the complaint was linked to.
    expect(mine.map((o) => o.number)).toContain(number);
    await ctx.close();
  }, 180_000);
});

describe('engineer', () => {
  it('provisions a device and sees its secret once', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await signIn(ctx, 'engineer');
    const room = platform.registry.listRooms()[0]!;
    await page.waitForSelector('[data-device]', { timeout: WAIT_MS });
    await page.fill('input[name=deviceId]', 'browser-rs-1');
    await page.selectOption('select[name=kind]', 'room_sensor');
    await page.fill('input[name=target]', room.id);
    await page.click('form.provision button[type=submit]');
    await page.waitForSelector('[data-secret]', { timeout: WAIT_MS });
    const secret = (await page.textContent('[data-secret]'))?.trim() ?? '';
    expect(secret.length).toBeGreaterThanOrEqual(16);
    await shot(page, 'engineer-1-provisioned');
    expect(platform.registry.getDevice('browser-rs-1')).toMatchObject({ kind: 'room_sensor', roomId: room.id, enabled: true });

    // Shown once: closing the notice removes the secret from the page for good.
    await page.click('.secret button');
    await expect.poll(() => page.locator('[data-secret]').count()).toBe(0);

    // zh-CN by default, English on request, remembered across a reload.
    expect(await page.textContent('[data-nav="devices"]')).toBe('设备登记');
    await page.selectOption('[data-testid="lang"]', 'en');
    expect(await page.textContent('[data-nav="devices"]')).toBe('Devices');
    await page.reload();
    await page.waitForSelector('[data-nav="devices"]');
    expect(await page.textContent('[data-nav="devices"]')).toBe('Devices');
    await shot(page, 'engineer-2-english');
    await ctx.close();
  }, 180_000);
  it('runs a scenario in the replay console and sees its incidents appear', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await signIn(ctx, 'engineer');
    await page.click('[data-nav="console"]');
    await page.waitForSelector('select[name=scenario] option[value="pump-failure"]', { state: 'attached', timeout: WAIT_MS });
    await page.selectOption('select[name=scenario]', 'pump-failure');
    const speeds = await page.$$eval('select[name=speed] option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    await page.selectOption('select[name=speed]', speeds.at(-1)!);
    await page.click('button[data-start]');
    await page.waitForSelector('progress[data-progress]', { timeout: WAIT_MS });
    // The sandboxed run's station fault (st-0002, pump stopped at 08:00) shows as it is found.
    await page.waitForSelector('[data-console-incident^="station_fault:st-0002:"]', { timeout: WAIT_MS });
    await page.waitForSelector('progress[data-finished="true"]', { timeout: WAIT_MS });
    expect(await page.getAttribute('progress', 'data-progress')).toBe('100');
    await shot(page, 'engineer-3-scenario');
    await ctx.close();
  }, 180_000);
});
