/**
 * Issue 17, SQLite records, the writes no REST caller waits for: the SLA tick (the timer that
 * records breaches and escalations per the norms, N6/N21) and the access check's audit entry
 * for a refused request. The disk refuses them (an I/O error injected at better-sqlite3's
 * Statement#run, and a real SQLITE_FULL from PRAGMA max_page_count) and then takes writes again:
 *  - the SLA tick runs on its real timer (every 50 ms): a tick the disk refuses keeps nothing
 *    (no breach, no escalation, no notification, no socket event), the timer and the process
 *    go on, /api/v1/health says degraded; once the disk is back the next tick does the work,
 *    once, and health is ok again by itself;
 *  - a refused request whose audit entry cannot be written is still refused — a 503, never
 *    the route's answer — counted as not audited; once the disk is back refusals are audited.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../domain/clock.ts';
import type { Order } from '../domain/orders/order.ts';
import { defaultPolicy } from '../domain/policy.ts';
import { startTestApi, watchRoomEmits, type TestApi } from './api-fixture.ts';
import { waitFor } from './harness/ports.ts';
import { fillSqliteDisk, injectSqliteFault, insertsInto } from './harness/sqlite-faults.ts';

let t: TestApi;
/** Socket events the API sent: [event, type]. */
const emitted: [string, string][] = [];
/** Errors that reached the process (there must be none: a disk fault is not a crash). */
const crashes: unknown[] = [];
const onCrash = (e: unknown) => crashes.push(e);

beforeAll(async () => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  t = await startTestApi({ tickIntervalMs: 50 });
  watchRoomEmits(t, (ev, args) => emitted.push([ev, String((args[0] as { type?: string } | undefined)?.type)]));
});
afterAll(async () => {
  await t?.close();
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
});

const health = async () =>
  (await t.req('GET', '/api/v1/health')).json<{ status: string; records: boolean; recordsLastFault?: { code: string } }>();
const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await t.req('GET', '/metrics')).body)?.[1]);
const count = (sql: string, ...args: unknown[]) => (t.registry.db.prepare(sql).get(...args) as { n: number }).n;
const notifications = (orderId: string) => count('SELECT count(*) AS n FROM notifications WHERE order_id = ?', orderId);

async function order(apartmentId: string): Promise<Order> {
  const res = await t.req('POST', '/api/v1/orders', 'dispatcher', { apartmentId, content: 'no heat at all', residentPhone: '13900000002' });
  expect(res.statusCode).toBe(201);
  return res.json<{ order: Order }>().order;
}
async function dispatch(id: string): Promise<void> {
  const res = await t.req('POST', `/api/v1/orders/${id}/dispatch`, 'dispatcher', { assignee: 'staff-o1' });
  expect(res.statusCode).toBe(200);
}
const getOrder = async (id: string) => (await t.req('GET', `/api/v1/orders/${id}`, 'dispatcher')).json<Order>();

/** An I/O error from every write statement while `on` (what EIO looks like to the API). */
const ioFault = (): { off(): void } => injectSqliteFault(t.registry.db);

/** A full disk: records.db may not grow, and the free room in the pages a tick and a refusal write to is used up. */
const fullDisk = (): { off(): void } =>
  fillSqliteDisk(t.registry.db, [
    {
      insert: `INSERT INTO audit_log (at, actor, entity, entity_id, action, detail) VALUES (0, 'test', 'filler', 'f', 'fill', ?)`,
      cleanup: `DELETE FROM audit_log WHERE entity = 'filler'`,
    },
    {
      insert: `INSERT INTO notifications (at, order_id, room, type, detail) VALUES (0, 'filler', 'city', 'fill', ?)`,
      cleanup: `DELETE FROM notifications WHERE order_id = 'filler'`,
    },
  ]);

describe('the SLA tick when the disk refuses its writes', () => {
  it('an I/O error: the escalation due is neither kept nor sent, the timer goes on; the next tick after the fault escalates once', async () => {
    const o = await order('b1-a21');
    await dispatch(o.id);
    const before = notifications(o.id);
    const failures = await metric('heat_api_records_write_failures_total');
    emitted.length = 0;
    const fault = ioFault();
    try {
      t.clock.set(o.receivedAt + 24 * HOUR_MS); // N21: the first rung, and N6/N8/N10 breaches
      await waitFor(async () => (await metric('heat_api_records_write_failures_total')) >= failures + 3, {
        timeoutMs: 10_000,
        what: 'ticks refused by the disk',
      });
      expect(await health()).toMatchObject({ status: 'degraded', records: false, recordsLastFault: { code: 'SQLITE_IOERR_WRITE' } });
      expect(notifications(o.id)).toBe(before);
      expect(count(`SELECT count(*) AS n FROM audit_log WHERE entity = 'order' AND entity_id = ? AND action = 'escalated'`, o.id)).toBe(0);
      expect(emitted).toEqual([]);
    } finally {
      fault.off();
    }
    const escalated = () =>
      count(`SELECT count(*) AS n FROM audit_log WHERE entity = 'order' AND entity_id = ? AND action = 'escalated'`, o.id);
    await waitFor(() => escalated() > 0, { timeoutMs: 10_000, what: 'escalation after the fault' });
    await t.relogin(); // the tick ended the 12 h sessions on the driven clock
    const after = await getOrder(o.id);
    expect(after.escalations.map((e) => [e.level, e.at - o.receivedAt])).toEqual([['station_head', 24 * HOUR_MS]]);
    expect(after.slaBreaches.map((b) => b.kind).sort()).toEqual(['answer', 'on_site', 'restore']);
    expect(emitted.filter(([ev, type]) => ev === 'order' && type === 'escalated')).toHaveLength(1);
    expect(escalated()).toBe(1);
    expect(await health()).toMatchObject({ status: 'ok', records: true });
    expect(await metric('heat_api_records_writable')).toBe(1);
    // More ticks add nothing: each breach and escalation once.
    const n = notifications(o.id);
    await new Promise((r) => setTimeout(r, 300));
    expect(notifications(o.id)).toBe(n);
    expect(crashes).toEqual([]);
  });

  it('a full disk: the breach due is not kept; room on the disk again, the next tick records it', async () => {
    const o = await order('b2-a11');
    await dispatch(o.id);
    const issued = t.clock.now();
    emitted.length = 0;
    const failures = await metric('heat_api_records_write_failures_total');
    const disk = fullDisk();
    try {
      t.clock.set(issued + defaultPolicy.service.onSiteWithinMin * MINUTE_MS); // N6: on site within the hour
      await waitFor(async () => (await metric('heat_api_records_write_failures_total')) > failures, {
        timeoutMs: 10_000,
        what: 'a tick refused (SQLITE_FULL)',
      });
      expect(await health()).toMatchObject({ status: 'degraded', records: false, recordsLastFault: { code: 'SQLITE_FULL' } });
      expect((await getOrder(o.id)).slaBreaches).toEqual([]);
      expect(emitted).toEqual([]);
    } finally {
      disk.off();
    }
    await waitFor(async () => (await getOrder(o.id)).slaBreaches.length > 0, { timeoutMs: 10_000, what: 'the breach after the fault' });
    expect((await getOrder(o.id)).slaBreaches.map((b) => b.kind)).toEqual(['on_site']);
    expect(emitted.filter(([ev]) => ev === 'order').length).toBeGreaterThan(0);
    expect(await health()).toMatchObject({ status: 'ok', records: true });
    expect(crashes).toEqual([]);
  });
});

describe("the access check's audit entry when the disk refuses it", () => {
  const refusals = () => count(`SELECT count(*) AS n FROM audit_log WHERE entity = 'access'`);
  // A new minute on the driven clock: the per-address audit cap of the minute starts afresh.
  beforeEach(async () => {
    t.clock.set(t.clock.now() + MINUTE_MS);
    await t.relogin();
  });

  it('a refusal that cannot be audited is refused with a 503, never served; the next one is audited', async () => {
    const audited = refusals();
    const notAudited = await metric('heat_api_refusals_not_audited_total');
    const fault = ioFault();
    let anonymous, wrongRole, forged;
    try {
      anonymous = await t.req('GET', '/api/v1/orders');
      wrongRole = await t.req('GET', '/api/v1/people', 'dispatcher');
      forged = await t.req('POST', '/api/v1/people', undefined, { username: 'x' }, { authorization: 'Bearer forged' });
    } finally {
      fault.off();
    }
    for (const res of [anonymous, wrongRole, forged]) {
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'HEAT_ERR_RECORDS_UNAVAILABLE', details: { sqlite: 'SQLITE_IOERR_WRITE' } });
      expect(res.body).not.toMatch(/"items"|"username"|disk I\/O/);
    }
    expect(refusals()).toBe(audited);
    expect(await metric('heat_api_refusals_not_audited_total')).toBe(notAudited + 3);
    expect(await health()).toMatchObject({ status: 'degraded', records: false });
    // The person the route would have created was not created.
    expect(t.app.heat.ctx.people.byUsername('x')).toBeUndefined();

    // The disk takes writes again: refusals are 401/403 and audited, and health follows by itself.
    expect((await t.req('GET', '/api/v1/orders')).statusCode).toBe(401);
    expect((await t.req('GET', '/api/v1/people', 'dispatcher')).statusCode).toBe(403);
    expect(refusals()).toBe(audited + 2);
    expect(await health()).toMatchObject({ status: 'ok', records: true });
    expect(await metric('heat_api_refusals_not_audited_total')).toBe(notAudited + 3);
  });

  it('a full disk: refused with a 503 (SQLITE_FULL), and audited once there is room', async () => {
    const audited = refusals();
    const disk = fullDisk();
    let res;
    try {
      res = await t.req('GET', '/api/v1/orders');
    } finally {
      disk.off();
    }
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'HEAT_ERR_RECORDS_UNAVAILABLE', details: { sqlite: 'SQLITE_FULL' } });
    expect(refusals()).toBe(audited);
    expect((await t.req('GET', '/api/v1/orders')).statusCode).toBe(401);
    expect(refusals()).toBe(audited + 1);
    expect(await health()).toMatchObject({ status: 'ok', records: true });
    expect(crashes).toEqual([]);
  });
});

describe('a device change whose audit entry the disk refuses', () => {
  it('is not made (503): no device provisioned, no secret rotated unaudited; made and audited once the disk is back', async () => {
    const fault = injectSqliteFault(t.registry.db, insertsInto('audit_log'));
    const row = (id: string) => t.registry.db.prepare('SELECT * FROM devices WHERE id = ?').get(id);
    const before = row('rs-b1-a11');
    const body = { id: 'rs-new-1', kind: 'room_sensor', roomId: 'b1-a12-r2' };
    let created, rotated, disabled;
    try {
      created = await t.req('POST', '/api/v1/devices', 'admin', body);
      rotated = await t.req('POST', '/api/v1/devices/rs-b1-a11/rotate-secret', 'admin');
      disabled = await t.req('POST', '/api/v1/devices/rs-b1-a11/disable', 'admin');
    } finally {
      fault.off();
    }
    for (const res of [created, rotated, disabled]) {
      expect(res.statusCode).toBe(503);
      expect(res.body).not.toMatch(/secret/);
    }
    expect(row('rs-new-1')).toBeUndefined();
    expect(row('rs-b1-a11')).toEqual(before); // same secret hash, still enabled
    const again = await t.req('POST', '/api/v1/devices', 'admin', body);
    expect(again.statusCode).toBe(201);
    expect(count(`SELECT count(*) AS n FROM audit_log WHERE entity = 'device' AND entity_id = 'rs-new-1' AND action = 'provisioned'`)).toBe(
      1,
    );
  });
});
