/**
 * Issue 13 finding 8 (one resident order broke the CSV export for every role: an unbounded
 * `appointmentAt: -1e308` was stored, then toISOString threw → 500 forever) and the CSV items
 * of finding 9 (only = + - @ were neutralised).
 *
 * - Every timestamp in every REST body and query of the OpenAPI document (found by name:
 *   `…At`, `at`, `from`, `to`) refuses -1e308 and 8.64e15+1 with a 400 naming that field.
 * - An order already stored with such values (from before the bound) still exports: 200.
 * - Export cells starting with a formula in any spelling (TAB, CR, LF, space, fullwidth) are
 *   neutralised with a leading apostrophe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../domain/csv.ts';
import type { Order } from '../../domain/orders/order.ts';
import { T0, startTestApi, type TestApi } from '../api-fixture.ts';

let t: TestApi;
let orderId: string;
beforeAll(async () => {
  t = await startTestApi();
  const r = await t.req('POST', '/api/v1/orders', 'dispatcher', { apartmentId: 'b1-a11', content: 'cold' });
  orderId = r.json<{ order: Order }>().order.id;
});
afterAll(async () => {
  await t?.close();
});

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[] };
const isTime = (name: string): boolean => /At$|^at$|^from$|^to$/.test(name);
const isNumber = (s: Schema): boolean => [s.type].flat().some((x) => x === 'number' || x === 'integer');

/** JSON paths of every timestamp-like number property in a body schema. */
function timeFields(s: Schema, path: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    if (isTime(k) && isNumber(v)) out.push([...path, k]);
    out.push(...timeFields(v, [...path, k]));
    for (const alt of [...(v.anyOf ?? []), ...(v.oneOf ?? [])]) out.push(...timeFields(alt, [...path, k]));
  }
  return out;
}

function bodyWith(path: string[], value: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let cur = root;
  path.forEach((k, i) => {
    if (i === path.length - 1) cur[k] = value;
    else cur = cur[k] = {} as Record<string, unknown>;
  });
  return root;
}

describe('timestamps are bounded everywhere', () => {
  it('refuses absurd times in every body and query field of the OpenAPI document, naming the field', async () => {
    const doc = (await t.req('GET', '/api/docs/json')).json<{
      paths: Record<
        string,
        Record<
          string,
          { parameters?: { in: string; name: string; schema: Schema }[]; requestBody?: { content: Record<string, { schema: Schema }> } }
        >
      >;
    }>();
    const probes: { method: string; url: string; body?: unknown; field: string }[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      const url = path.replace(/\{id\}/g, orderId).replace(/\{kind\}/g, 'devices');
      for (const [m, op] of Object.entries(ops)) {
        const schema = op.requestBody?.content['application/json']?.schema;
        for (const f of schema ? timeFields(schema) : []) {
          for (const v of [-1e308, 8.64e15 + 1])
            probes.push({ method: m.toUpperCase(), url, body: bodyWith(f, v), field: `body/${f.join('/')}` });
        }
        for (const p of op.parameters ?? []) {
          if (p.in === 'query' && isTime(p.name) && isNumber(p.schema)) {
            for (const v of ['-1e308', '8640000000000001'])
              probes.push({ method: m.toUpperCase(), url: `${url}?${p.name}=${v}`, field: `querystring/${p.name}` });
          }
        }
      }
    }
    const fields = new Set(probes.map((p) => `${p.method} ${p.url.split('?')[0]} ${p.field}`));
    expect(fields.size).toBeGreaterThanOrEqual(12);
    const wrong: string[] = [];
    for (const p of probes) {
      const res = await t.req(p.method, p.url, 'admin', p.body);
      const b = res.json<{ code: string; details?: { fields?: string[] } }>();
      if (res.statusCode !== 400 || !b.details?.fields?.includes(p.field))
        wrong.push(`${p.method} ${p.url} ${p.field}: ${res.statusCode} ${res.body.slice(0, 120)}`);
    }
    expect(wrong, wrong.join('\n')).toEqual([]);
  });

  it('exports the CSV even with an order stored with out-of-range times', async () => {
    const o = t.app.heat.ctx.ordersRepo.get(orderId)!;
    t.app.heat.ctx.ordersRepo.save({ ...o, appointmentAt: -1e308, closedAt: 8.64e15 + 1 }, T0);
    for (const who of ['admin', 'dispatcher', 'manager', 'head-o1']) {
      const res = await t.req('GET', '/api/v1/orders/export.csv', who);
      expect(res.statusCode, who).toBe(200);
    }
    const rows = parseCsv((await t.req('GET', '/api/v1/orders/export.csv', 'admin')).body);
    const header = rows[0]!;
    const row = rows.find((r) => r[header.indexOf('id')] === orderId)!;
    expect(row[header.indexOf('appointmentAt')]).toBe("'-1e+308"); // a text cell, so neutralised too
    expect(row[header.indexOf('closedAt')]).toBe('8640000000000001');
  });
});

describe('CSV export neutralises formulas in every spelling', () => {
  it('prefixes an apostrophe to cells that a spreadsheet would run', async () => {
    const payloads = [
      '=1+1',
      '\t=1+1',
      '\r=HYPERLINK("x")',
      '\n=1+1',
      ' =1+1',
      '＝1+1',
      '＋1+1',
      '－1+1',
      '＠SUM(A1)',
      '@SUM(A1)',
      '+1+1',
      '-1+1',
    ];
    const apartments = [
      'b1-a12',
      'b1-a21',
      'b1-a22',
      'b2-a11',
      'b2-a12',
      'b2-a21',
      'b2-a22',
      'b3-a11',
      'b3-a12',
      'b3-a21',
      'b3-a22',
      'b1-a11',
    ];
    const ids = new Map<string, string>();
    for (const [i, content] of payloads.entries()) {
      const r = await t.req('POST', '/api/v1/orders', 'dispatcher', { apartmentId: apartments[i], content, residentContact: content });
      expect([200, 201]).toContain(r.statusCode);
      ids.set(r.json<{ order: Order }>().order.id, content);
    }
    const rows = parseCsv((await t.req('GET', '/api/v1/orders/export.csv', 'admin')).body);
    const header = rows[0]!;
    let checked = 0;
    for (const r of rows.slice(1)) {
      const content = ids.get(r[header.indexOf('id')]!);
      if (content === undefined || r[header.indexOf('content')] === 'cold') continue;
      expect(r[header.indexOf('residentContact')], JSON.stringify(content)).toBe(`'${content}`);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(payloads.length - 1);
  });
});
