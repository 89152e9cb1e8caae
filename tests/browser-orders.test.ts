/**
 * Issue 16 "Done when": every order source walked from the screen, from creation to closed, in
 * Chromium against the real platform (broker, ingest, rules, API, dashboard build):
 *
 * - proactive: a device publishes a cold backlog with Debian's mosquitto_pub, the rules open
 *   an apartment_cold incident and the API an order; left alone 24 h it escalates (N21) to
 *   the 所长 of its own office — shown to that head, not to the other office's;
 * - a resident's complaint from their home: not home with a re-appointment in the future
 *   (N25), the callback inside N12's hours, the rating the resident chooses (N7);
 * - a measurement request from the home, resolved with the N30 record;
 * - a planned outage announced on the screen ≥ 48 h ahead (N9), shown in the resident's home,
 *   and its follow-up order once it has ended.
 *
 * The closed complaint's three copies on the print view are the server's (N20), and the KPI
 * page shows the change. Every API answer the pages get is recorded: no 4xx in normal use.
 *
 * Time: the platform runs on a ManualClock (the platform's injectable clock) and each browser
 * context's clock is set to it, so hours pass without sleeping; the SLA clock is ticked by hand.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS, ManualClock } from '../domain/clock.ts';
import type { Order } from '../domain/orders/order.ts';
import { ORDER_FORM_FIELDS } from '../domain/orders/order-form.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { WAIT_MS, fillRepairSheet, kpiTile, local, openOrder, publishAsDevice, signIn, step, type Session } from './browser-orders.walk.ts';
import { buildDashboard, launchChromium } from './harness/browser.ts';

/** 08:00 in Beijing on 2 December of this year: inside the heating season (N1) whatever the date of the run. */
const T0 = Date.UTC(new Date().getUTCFullYear(), 11, 2, 0, 0);
const HEAD2 = 'head-east';
const HEAD2_PASSWORD = 'Dongqu-Suozhang-2026!';

let platform: TestPlatform;
let browser: Browser;
const clock = new ManualClock(T0);
const failures: string[] = [];
const sessions: Session[] = [];
let adminToken: string;
/** The proactive order's apartment, on the station moved to the second office. */
let coldApartment: string;
let residentApartment: string;
let outageStation: string;

async function as(username: string, mobile = false): Promise<Session> {
  const s = await signIn(browser, platform.httpUrl, clock, username, mobile, username === HEAD2 ? HEAD2_PASSWORD : undefined);
  sessions.push(s);
  return s;
}
async function done(s: Session): Promise<void> {
  failures.push(...s.failures);
  await s.close();
}
async function rest<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`${platform.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}
/** Move the platform's clock (and so every new page's) and run the SLA clock (N21, N9 follow-ups). */
function advanceTo(ms: number): void {
  clock.set(ms);
  platform.api.heat.tick();
}
/** The server's record, read as an administrator (signed in afresh: sessions end after 12 h on the platform clock). */
const orderOf = async (id: string): Promise<Order> =>
  rest<Order>(await login(platform.httpUrl, 'admin', 'admin-test-password'), 'GET', `/orders/${id}`);

beforeAll(async () => {
  await buildDashboard();
  platform = await startTestPlatform({ demo: true, fleetSpeed: false, clock, apiTickIntervalMs: 0 });
  browser = await launchChromium();
  // A second 供热所 with its own head, over the public API as an administrator would set it up.
  adminToken = await login(platform.httpUrl, 'admin', 'admin-test-password');
  const r = platform.registry;
  const moved = r.listStations().at(-1)!;
  await rest(adminToken, 'POST', '/offices', { id: 'off-east', name: '东区供热所' });
  await rest(adminToken, 'PUT', `/stations/${moved.id}`, { ...moved, officeId: 'off-east' });
  await rest(adminToken, 'POST', '/people', {
    username: HEAD2,
    name: '东区所长 赵立',
    role: 'station_head',
    officeId: 'off-east',
    password: HEAD2_PASSWORD,
  });
  const resident = platform.demoAccounts.find((a) => a.username === 'resident1')!;
  residentApartment = resident.apartmentId!;
  outageStation = r.getBuilding(r.getApartment(residentApartment)!.buildingId)!.stationId;
  expect(outageStation).not.toBe(moved.id);
  // A monitored apartment on the moved station (a sensor in a bedroom or the living room).
  const sensed = new Set(r.listDevices({ kind: 'room_sensor' }).map((d) => d.roomId));
  coldApartment = r
    .listBuildings(moved.id)
    .flatMap((b) => r.listApartments(b.id))
    .find((a) => {
      const rooms = r.listRooms(a.id).filter((x) => x.type === 'bedroom' || x.type === 'living');
      return rooms.some((x) => sensed.has(x.id));
    })!.id;
  expect(coldApartment).toBeTruthy();
}, 180_000);

afterAll(async () => {
  for (const s of sessions) await s.close().catch(() => undefined);
  await browser?.close();
  await platform?.stop();
});

describe('service orders from the screen (issue 16)', () => {
  let complaintId: string;
  let measurementId: string;
  let proactiveId: string;
  let kpiBefore: { callback: string; satisfaction: string };

  it('opens an order from each source: outage announced, cold reading, complaint and measurement request', async () => {
    const d = await as('dispatcher');
    kpiBefore = {
      callback: await kpiTile(d, platform.httpUrl, 'callback'),
      satisfaction: await kpiTile(d, platform.httpUrl, 'satisfaction'),
    };
    // N9: a planned outage of the resident's station, 49 h ahead, announced on the board.
    await d.page.goto(`${platform.httpUrl}/#/orders`);
    await d.page.click('[data-announce-outage]');
    await d.page.selectOption('[data-outage-form] select[name=stationId]', outageStation);
    await d.page.fill('[data-outage-form] input[name=startsAt]', local(T0 + 49 * HOUR_MS));
    await d.page.fill('[data-outage-form] input[name=endsAt]', local(T0 + 53 * HOUR_MS));
    await d.page.fill('[data-outage-form] textarea[name=reason]', '换热站板式换热器清洗检修');
    await d.page.click('[data-submit="outage"]');
    await d.page.waitForSelector('[data-announced]', { timeout: WAIT_MS });

    // Proactive: the apartment's sensors report 80 minutes at 15 °C (a backlog, as a real device after a gap).
    const sensors = platform.registry
      .listDevices({ kind: 'room_sensor' })
      .filter((dev) => platform.registry.listRooms(coldApartment).some((room) => room.id === dev.roomId));
    for (const dev of sensors) {
      const readings = Array.from({ length: 9 }, (_, i) => ({
        ts: T0 - 80 * MINUTE_MS + i * 10 * MINUTE_MS,
        temp: 15,
        rh: 40,
        bat: 3.0,
        rssi: -70,
      }));
      await publishAsDevice(platform.ports.mqtt, dev.id, platform.deviceSecrets.get(dev.id)!, readings);
    }
    const card = d.page.locator(`[data-column="new"] [data-order-apartment="${coldApartment}"][data-order-source="proactive"]`);
    await card.waitFor({ timeout: WAIT_MS });
    proactiveId = (await card.getAttribute('data-order-card'))!;
    await done(d);

    // The resident, on a phone: the outage notice in the home, then a complaint and a measurement request.
    const res = await as('resident1', true);
    const notice = res.page.locator('[data-notice-hours]');
    await notice.waitFor({ timeout: WAIT_MS });
    expect(Number(await notice.getAttribute('data-notice-hours'))).toBeGreaterThanOrEqual(48); // N9
    await res.page.check('input[name=kind][value=complaint]');
    await res.page.fill('textarea[name=describe]', '卧室暖气片不热，室温只有十五度左右');
    await res.page.click('form.request button[type=submit]');
    const complaintNo = await (await res.page.waitForSelector('[data-sent]', { timeout: WAIT_MS })).getAttribute('data-sent');
    await res.page.check('input[name=kind][value=measurement]');
    await res.page.fill('textarea[name=describe]', '请上门测一下室温');
    await res.page.click('form.request button[type=submit]');
    await res.page.waitForFunction((n) => document.querySelector('[data-sent]')?.getAttribute('data-sent') !== n, complaintNo, {
      timeout: WAIT_MS,
    });
    const measurementNo = await res.page.getAttribute('[data-sent]', 'data-sent');
    complaintId = (await res.page.getAttribute(`[data-my-order-number="${complaintNo}"]`, 'data-my-order'))!;
    measurementId = (await res.page.getAttribute(`[data-my-order-number="${measurementNo}"]`, 'data-my-order'))!;
    await done(res);
    expect(await orderOf(complaintId)).toMatchObject({ source: 'complaint', channel: 'app', status: 'new' });
    expect(await orderOf(measurementId)).toMatchObject({ source: 'measurement', status: 'new' });
  }, 240_000);

  it('walks the complaint: dispatch, accept, not home with a new appointment, repair, callback in N12 hours, the resident rates, close', async () => {
    const d = await as('dispatcher');
    await openOrder(d, platform.httpUrl, complaintId);
    await step(d, 'dispatch', 'dispatched', async (p) => {
      await p.fill('article.order input[name=assignee]', '王建国');
      await p.fill('article.order input[name=supervisor]', '李主管');
    });
    await done(d);
    const staff = await as('staff-off-001');
    await openOrder(staff, platform.httpUrl, complaintId);
    await step(staff, 'accept', 'accepted', (p) => p.fill('article.order input[name=appointment]', local(T0 + 2 * HOUR_MS)));
    await done(staff);

    // 10:00: nobody home — a note in plain sight and a new appointment three hours on (N25).
    advanceTo(T0 + 2 * HOUR_MS);
    const s2 = await as('staff-off-001');
    await openOrder(s2, platform.httpUrl, complaintId);
    await step(s2, 'not_home', 'accepted', async (p) => {
      await p.fill(
        'article.order textarea[name=note]',
        '用户不在家，留言条贴在单元楼道公告栏：联系人王建国 13800000001，改约今天13:00上门',
      );
      await p.fill('article.order input[name=appointment]', local(T0 + 5 * HOUR_MS));
    });
    await done(s2);
    const afterNotHome = await orderOf(complaintId);
    expect(afterNotHome.appointmentAt).toBe(T0 + 5 * HOUR_MS); // N6: the on-site clock moved to the new, future, time
    expect(afterNotHome.notHome).toHaveLength(1);

    // 13:00: on site, repaired, the sheet signed (N23).
    advanceTo(T0 + 5 * HOUR_MS);
    const s3 = await as('staff-off-001');
    await openOrder(s3, platform.httpUrl, complaintId);
    await step(s3, 'arrive', 'on_site');
    await step(s3, 'resolve', 'resolved', (p) =>
      fillRepairSheet(p, 'building', T0 + 5 * HOUR_MS, T0 + 5 * HOUR_MS + 40 * MINUTE_MS, '单元立管排气，调节入户阀门，暖气片恢复正常'),
    );
    await done(s3);

    // 13:20 is nap time (N12): the callback is booked for 14:00 and made then, with a real result and no score.
    advanceTo(T0 + 5 * HOUR_MS + 20 * MINUTE_MS);
    const d2 = await as('dispatcher');
    await openOrder(d2, platform.httpUrl, complaintId);
    await step(d2, 'schedule_callback', 'resolved', (p) => p.fill('article.order input[name=at]', local(T0 + 6 * HOUR_MS)));
    await done(d2);
    expect((await orderOf(complaintId)).callbackDueAt).toBe(T0 + 6 * HOUR_MS);
    advanceTo(T0 + 6 * HOUR_MS);
    const d3 = await as('dispatcher');
    await openOrder(d3, platform.httpUrl, complaintId);
    await step(d3, 'callback', 'callback', (p) => p.fill('article.order textarea[name=result]', '用户确认卧室已热，室温二十度'));
    await done(d3);

    // N7: the resident chooses the rating in the home.
    const res = await as('resident1', true);
    const item = res.page.locator(`[data-my-order="${complaintId}"]`);
    await item.locator('select[data-rating]').waitFor({ timeout: WAIT_MS });
    await item.locator('select[data-rating]').selectOption('4');
    await item.locator('.rate button').click();
    await item.locator('[data-rated]').waitFor({ timeout: WAIT_MS });
    // What happened, what we are doing, when — from the catalogue, in plain words (no codes).
    const says = (await item.locator('[data-resident-text]').textContent()) ?? '';
    expect(says).toContain('感谢您接受回访');
    expect(says).not.toMatch(/[a-z]+_[a-z]+|=|ord-|HEAT_ERR/);
    await done(res);

    const d4 = await as('dispatcher');
    await openOrder(d4, platform.httpUrl, complaintId);
    await step(d4, 'close', 'closed');
    await done(d4);
    expect(await orderOf(complaintId)).toMatchObject({
      status: 'closed',
      satisfaction: 4,
      callbackResult: '用户确认卧室已热，室温二十度',
      callbackAt: T0 + 6 * HOUR_MS,
    });
  }, 300_000);

  it("shows the closed complaint as the server's three copies and the KPI change", async () => {
    const d = await as('dispatcher');
    await d.page.goto(`${platform.httpUrl}/#/orders/${complaintId}/print`);
    await expect.poll(() => d.page.locator('section.copy[data-copy]').count(), { timeout: WAIT_MS }).toBe(3);
    for (const view of ['company', 'station', 'team'] as const) {
      const copy = await rest<Record<string, unknown>>(
        await login(platform.httpUrl, 'admin', 'admin-test-password'),
        'GET',
        `/orders/${complaintId}?view=${view}`,
      );
      const shown = await d.page
        .locator(`section.copy[data-copy="${view}"] [data-field]`)
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-field')!));
      expect(shown.sort(), view).toEqual(ORDER_FORM_FIELDS.filter((k) => copy[k] !== undefined && copy[k] !== '').sort());
    }
    // N20: the company copy carries the rating and the callback; the station copy no rating; the team copy neither.
    expect(await d.page.locator('section.copy[data-copy="company"] [data-field="satisfaction"]').count()).toBe(1);
    expect(await d.page.locator('section.copy[data-copy="station"] [data-field="satisfaction"]').count()).toBe(0);
    expect(await d.page.locator('section.copy[data-copy="team"] [data-field="callbackResult"]').count()).toBe(0);
    // KPIs: one repair order resolved and called back (N22), one rating of 4 (N7, satisfied).
    expect(kpiBefore).toEqual({ callback: '—', satisfaction: '—' });
    expect(await kpiTile(d, platform.httpUrl, 'callback')).toBe('100.0%');
    expect(await kpiTile(d, platform.httpUrl, 'satisfaction')).toBe('100.0%');
    await done(d);
  }, 180_000);

  it('walks the measurement request: the N30 record room by room, then closed', async () => {
    const d = await as('dispatcher');
    await openOrder(d, platform.httpUrl, measurementId);
    await step(d, 'dispatch', 'dispatched', async (p) => {
      await p.fill('article.order input[name=assignee]', '测温组 孙师傅');
      await p.fill('article.order input[name=supervisor]', '李主管');
    });
    await done(d);
    const s = await as('staff-off-001');
    await openOrder(s, platform.httpUrl, measurementId);
    await step(s, 'accept', 'accepted', (p) => p.fill('article.order input[name=appointment]', local(T0 + 7 * HOUR_MS)));
    await done(s);
    advanceTo(T0 + 7 * HOUR_MS);
    const s2 = await as('staff-off-001');
    await openOrder(s2, platform.httpUrl, measurementId);
    await step(s2, 'arrive', 'on_site');
    await step(s2, 'resolve', 'resolved', async (p) => {
      await p.selectOption('article.order select[name=cause]', 'not_a_fault');
      await p.waitForSelector('article.order [data-measurement] [data-room]');
      for (const el of await p.locator('article.order input[name^="t-"]').all()) await el.fill('19.6');
      for (const el of await p.locator('article.order input[name^="h-"]').all()) await el.fill('1.2');
      for (const el of await p.locator('article.order input[name^="w-"]').all()) await el.fill('1.0');
      await p.fill('article.order input[name=closedBeforeMin]', '40');
      await p.fill('article.order input[name=instrumentErrorC]', '0.3');
      await p.check('article.order [data-measurement] input[name=signed]');
    });
    await step(s2, 'note', 'resolved', (p) => p.fill('article.order textarea[name=note]', '测温结果已告知用户'));
    await done(s2);
    const d2 = await as('dispatcher');
    await openOrder(d2, platform.httpUrl, measurementId);
    await step(d2, 'close', 'closed');
    await done(d2);
    const m = await orderOf(measurementId);
    expect(m.status).toBe('closed');
    expect(m.measurement?.result.verdict).toBe('compliant'); // N32: area-weighted 19.6 °C ≥ 18 °C
  }, 240_000);

  it("escalates the untouched proactive order after 24 h to its own office's head (N21), who sees it; the other head does not", async () => {
    advanceTo(T0 + 25 * HOUR_MS);
    const o = await orderOf(proactiveId);
    expect(o.escalations.map((e) => e.level)).toEqual(['station_head']);
    const head = await as(HEAD2);
    const card = head.page.locator(`[data-order-card="${proactiveId}"] [data-escalation="station_head"]`);
    await head.page.goto(`${platform.httpUrl}/#/orders`);
    await card.waitFor({ timeout: WAIT_MS });
    await openOrder(head, platform.httpUrl, proactiveId);
    const told = head.page.locator('[data-escalation-level="station_head"] [data-told]');
    expect(await told.allTextContents()).toEqual(['东区所长 赵立']);
    await done(head);
    const other = await as('head-off-001');
    await other.page.goto(`${platform.httpUrl}/#/orders`);
    await other.page.waitForSelector('[data-column="new"]');
    await other.page.waitForLoadState('networkidle');
    expect(await other.page.locator(`[data-order-card="${proactiveId}"]`).count()).toBe(0);
    await done(other);

    // Then handled to the end: dispatched, the head's team repairs it, closed.
    const d = await as('dispatcher');
    await openOrder(d, platform.httpUrl, proactiveId);
    await step(d, 'dispatch', 'dispatched', async (p) => {
      await p.fill('article.order input[name=assignee]', '东区维修班');
      await p.fill('article.order input[name=supervisor]', '东区所长 赵立');
    });
    await done(d);
    const h2 = await as(HEAD2);
    await openOrder(h2, platform.httpUrl, proactiveId);
    await step(h2, 'accept', 'accepted');
    await step(h2, 'arrive', 'on_site');
    await step(h2, 'resolve', 'resolved', async (p) => {
      await fillRepairSheet(p, 'in_home', clock.now(), clock.now() + 30 * MINUTE_MS, '卧室暖气片存气，已排气');
      // N24: an in-home cause is explained in writing and fixed free where possible.
      await p.fill(
        'article.order textarea[name=explanation]',
        '卧室暖气片内有空气，热水进不去；已为您免费排气，以后如再不热可先打开排气阀',
      );
      await p.check('article.order input[name=remedy][value=free]');
    });
    await done(h2);
    const d2 = await as('dispatcher');
    await openOrder(d2, platform.httpUrl, proactiveId);
    await step(d2, 'close', 'closed');
    await done(d2);
  }, 240_000);

  it("opens the planned outage's follow-up once it has ended and walks it to closed", async () => {
    advanceTo(T0 + 54 * HOUR_MS); // 14:00 two days on: the outage (49–53 h) is over
    const d = await as('dispatcher');
    await d.page.goto(`${platform.httpUrl}/#/orders`);
    const card = d.page.locator(`[data-column="new"] [data-order-source="outage_followup"][data-order-station="${outageStation}"]`);
    await card.waitFor({ timeout: WAIT_MS });
    const id = (await card.getAttribute('data-order-card'))!;
    await openOrder(d, platform.httpUrl, id);
    // N9 on the order screen: the outage, how far ahead it was announced and who was told.
    const told = d.page.locator('[data-order-outage] [data-notices]');
    await told.waitFor({ timeout: WAIT_MS });
    expect(Number(await told.getAttribute('data-notices'))).toBeGreaterThan(0);
    expect(Number(await d.page.getAttribute('[data-announced-hours]', 'data-announced-hours'))).toBeGreaterThanOrEqual(48);
    await step(d, 'dispatch', 'dispatched', async (p) => {
      await p.fill('article.order input[name=assignee]', '王建国');
      await p.fill('article.order input[name=supervisor]', '李主管');
    });
    await done(d);
    const s = await as('staff-off-001');
    await openOrder(s, platform.httpUrl, id);
    await step(s, 'accept', 'accepted');
    await step(s, 'arrive', 'on_site');
    await step(s, 'resolve', 'resolved', (p) =>
      fillRepairSheet(p, 'not_a_fault', clock.now(), clock.now() + 20 * MINUTE_MS, '检修后逐户核查，供热已恢复'),
    );
    await done(s);
    const d2 = await as('dispatcher');
    await openOrder(d2, platform.httpUrl, id);
    await step(d2, 'close', 'closed');
    await done(d2);
    expect(await orderOf(id)).toMatchObject({ source: 'outage_followup', status: 'closed' });
  }, 240_000);

  it('met no 4xx from the API in any of it', () => {
    expect(failures).toEqual([]);
  });
});
