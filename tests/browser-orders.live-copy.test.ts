/**
 * A live update keeps the viewer's own card (issue #20 follow-up, order board): a station staff
 * member's board lists whole records (GET /orders), with each card's SLA countdown and N21
 * escalation badge. When the dispatcher takes a step, the board fetches the order again; that
 * fetch must get the same shape, not the staff's default paper copy (the team copy, N20, which
 * has no reception time and no escalations), or the card loses both badges. Walked in Chromium
 * against the real platform on a ManualClock: staff on the screen, the dispatcher over REST.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS, ManualClock } from '../domain/clock.ts';
import type { Order } from '../domain/orders/order.ts';
import { PASSWORD, WAIT_MS, signIn, type Session } from './browser-orders.walk.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { buildDashboard, launchChromium } from './harness/browser.ts';

/** 08:00 in Beijing on 2 December of this year: inside the heating season (N1). */
const T0 = Date.UTC(new Date().getUTCFullYear(), 11, 2, 0, 0);
const clock = new ManualClock(T0);
let platform: TestPlatform;
let browser: Browser;
let staff: Session | undefined;

async function rest<T>(who: string, method: string, path: string, body?: unknown): Promise<T> {
  const token = await login(platform.httpUrl, who, who === 'admin' ? 'admin-test-password' : PASSWORD);
  const r = await fetch(`${platform.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

beforeAll(async () => {
  await buildDashboard();
  platform = await startTestPlatform({ demo: true, fleetSpeed: false, clock, apiTickIntervalMs: 0 });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await staff?.close().catch(() => undefined);
  await browser?.close();
  await platform?.stop();
});

describe("a station staff member's board card through a live update", () => {
  it('keeps its SLA countdown and escalation badge when the dispatcher dispatches the order', async () => {
    const r = platform.registry;
    const me = platform.demoAccounts.find((a) => a.role === 'station_staff')!;
    const station = r.listStations().find((s) => s.officeId === me.officeId)!;
    const apartment = r.listApartments(r.listBuildings(station.id)[0]!.id)[0]!;
    // A hotline complaint on the staff's grid (N5), left unanswered 25 h: N10 overdue, N21 → the 所长.
    const { order } = await rest<{ order: Order }>('dispatcher', 'POST', '/orders', {
      apartmentId: apartment.id,
      content: '卧室暖气不热',
      channel: 'hotline',
    });
    clock.set(T0 + 25 * HOUR_MS);
    platform.api.heat.tick();
    expect((await rest<Order>('admin', 'GET', `/orders/${order.id}`)).escalations.map((e) => e.level)).toEqual(['station_head']); // N21

    staff = await signIn(browser, platform.httpUrl, clock, me.username);
    const p = staff.page;
    await p.goto(`${platform.httpUrl}/#/orders`);
    const card = `[data-column="new"] [data-order-card="${order.id}"]`;
    await p.waitForSelector(card, { timeout: WAIT_MS });
    expect(await p.locator(`${card} [data-escalation="station_head"]`).count()).toBe(1);
    expect(await p.locator(`${card} .sla.over`).count()).toBe(1); // N10 overdue

    // The dispatcher dispatches it (REST); the staff's board hears it live and fetches it again.
    await rest('dispatcher', 'POST', `/orders/${order.id}/dispatch`, { assignee: '王师傅' });
    const moved = `[data-column="dispatched"] [data-order-card="${order.id}"]`;
    await p.waitForSelector(moved, { timeout: WAIT_MS });
    // Still the whole record: the badge and the overdue N10 clock, not the team copy's N6 hour alone.
    expect(await p.locator(`${moved} [data-escalation="station_head"]`).count()).toBe(1);
    expect(await p.locator(`${moved} .sla.over`).count()).toBe(1);
    expect(staff.failures).toEqual([]);
  }, 240_000);
});
