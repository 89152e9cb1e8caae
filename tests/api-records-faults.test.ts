/**
 * Issue 17, SQLite records: a write to records.db that the disk refuses gets the REST caller
 * a coded 503 (HEAT_ERR_RECORDS_UNAVAILABLE), never a 200/201; nothing of it is kept (the
 * order counter did not move either), no socket event leaves (the outbox drops what the
 * rolled-back transaction raised), /api/v1/health and /metrics show it, and once the disk
 * takes writes again the API does too, with no restart.
 * Two faults: an I/O error injected at better-sqlite3's Statement#run (what EIO looks like to
 * the API), and a real SQLITE_FULL from a size-limited database (PRAGMA max_page_count).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, watchRoomEmits, type TestApi } from './api-fixture.ts';
import { injectSqliteFault } from './harness/sqlite-faults.ts';

let t: TestApi;
/** Socket events the API sent, by event name. */
let emitted: string[] = [];

beforeAll(async () => {
  t = await startTestApi();
  watchRoomEmits(t, (ev) => emitted.push(ev));
});
afterAll(async () => t?.close());
afterEach(() => {
  emitted = [];
});

const complaint = (apartmentId: string, content = 'radiators cold since the morning') =>
  t.req('POST', '/api/v1/orders', 'dispatcher', { apartmentId, content, residentPhone: '13900000001', residentContact: 'Li' });
const health = async () =>
  (await t.req('GET', '/api/v1/health')).json<{ status: string; records: boolean; recordsLastFault?: { code: string } }>();
const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await t.req('GET', '/metrics')).body)?.[1]);
const count = (sql: string) => (t.registry.db.prepare(sql).get() as { n: number }).n;

describe('a records.db write the disk refuses', () => {
  it('an I/O error (injected at Statement#run): 503 with the code, nothing kept, no event, visible in /health; then it works again', async () => {
    const fault = injectSqliteFault(t.registry.db);
    try {
      const before = { orders: count('SELECT count(*) AS n FROM orders'), counters: count('SELECT count(*) AS n FROM order_counters') };
      const failures = await metric('heat_api_records_write_failures_total');
      const res = await complaint('b1-a11');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        code: 'HEAT_ERR_RECORDS_UNAVAILABLE',
        message: 'The records database cannot be written now; nothing was saved, try again later',
        details: { sqlite: 'SQLITE_IOERR_WRITE' },
      });
      expect(res.body).not.toMatch(/disk I\/O|stack|\.ts/);
      expect(count('SELECT count(*) AS n FROM orders')).toBe(before.orders);
      expect(count('SELECT count(*) AS n FROM order_counters')).toBe(before.counters);
      expect(emitted).toEqual([]);
      expect(await health()).toMatchObject({ status: 'degraded', records: false, recordsLastFault: { code: 'SQLITE_IOERR_WRITE' } });
      expect(await metric('heat_api_records_write_failures_total')).toBe(failures + 1);
      expect(await metric('heat_api_records_writable')).toBe(0);
      // A write request refused for its body wrote nothing: it does not make the disk look healed.
      const bad = await t.req('POST', '/api/v1/orders', 'dispatcher', { apartmentId: 'b1-a11', content: 42 });
      expect(bad.statusCode).toBe(400);
      expect(await health()).toMatchObject({ status: 'degraded', records: false });
    } finally {
      fault.off();
    }
    // The disk is back: the same request goes through, and health follows by itself.
    const again = await complaint('b1-a11');
    expect(again.statusCode).toBe(201);
    expect(emitted).toContain('order');
    expect(await health()).toMatchObject({ status: 'ok', records: true, recordsLastFault: { code: 'SQLITE_IOERR_WRITE' } });
    expect(await metric('heat_api_records_writable')).toBe(1);
  });

  it('a full disk (a size-limited database): 503, no order, no event, the counter unmoved; raising the limit heals it without a restart', async () => {
    const db = t.registry.db;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    try {
      // Fill the pages that are left; the first write that needs a new page is refused.
      let refused: Awaited<ReturnType<typeof complaint>> | undefined;
      let ordersBefore = 0;
      let numberBefore = 0;
      const apartments = ['b1-a12', 'b1-a21', 'b1-a22', 'b2-a11', 'b2-a12', 'b2-a21', 'b2-a22', 'b3-a11', 'b3-a12', 'b3-a21', 'b3-a22'];
      for (const a of apartments) {
        ordersBefore = count('SELECT count(*) AS n FROM orders');
        numberBefore = count('SELECT coalesce(max(n), 0) AS n FROM order_counters');
        emitted = [];
        const r = await complaint(a, `${a}: `.padEnd(2000, 'cold '));
        if (r.statusCode === 503) {
          refused = r;
          break;
        }
        expect(r.statusCode).toBe(201);
      }
      expect(refused, 'a write beyond max_page_count').toBeDefined();
      expect(refused!.json()).toMatchObject({ code: 'HEAT_ERR_RECORDS_UNAVAILABLE', details: { sqlite: 'SQLITE_FULL' } });
      expect(count('SELECT count(*) AS n FROM orders')).toBe(ordersBefore);
      expect(count('SELECT coalesce(max(n), 0) AS n FROM order_counters')).toBe(numberBefore);
      expect(emitted).toEqual([]);
      expect(await health()).toMatchObject({ status: 'degraded', records: false, recordsLastFault: { code: 'SQLITE_FULL' } });
    } finally {
      db.pragma(`max_page_count = ${pages + 100_000}`);
    }
    const healed = await complaint('b3-a22');
    expect(healed.statusCode).toBe(201);
    expect(emitted).toContain('order');
    expect(await health()).toMatchObject({ status: 'ok', records: true });
  });
});
