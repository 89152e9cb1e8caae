/**
 * The OpenAPI document is the contract the dashboard's client is generated from (issue #15):
 * read from the running API the way any client reads it (GET /api/docs/json), every
 * operation must declare a 2xx response with a schema (or a body-less 204), the coded error
 * shape for 4xx/5xx, and a schema for every request body it accepts. The failure lists the
 * operations that do not, so a new route without schemas names itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './api-fixture.ts';

interface MediaType {
  readonly schema?: unknown;
}
interface Operation {
  readonly operationId?: string;
  readonly responses?: Record<string, { readonly content?: Record<string, MediaType> }>;
  readonly requestBody?: { readonly content?: Record<string, MediaType> };
}
interface Document {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components?: { readonly schemas?: Record<string, unknown> };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

let api: TestApi;
let doc: Document;
let operations: { name: string; op: Operation }[];

beforeAll(async () => {
  api = await startTestApi();
  const res = await api.req('GET', '/api/docs/json');
  expect(res.statusCode).toBe(200);
  doc = res.json<Document>();
  operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
  );
});
afterAll(async () => {
  await api?.close();
});

const hasSchema = (content: Record<string, MediaType> | undefined): boolean =>
  !!content && Object.keys(content).length > 0 && Object.values(content).every((m) => m.schema !== undefined && m.schema !== null);

describe('OpenAPI document', () => {
  it('lists the API (every route the server registered under /api/v1)', () => {
    const registered = new Set(
      api.app.heat.routes.filter((r) => r.url.startsWith('/api/v1/')).map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`),
    );
    const documented = new Set(operations.map((o) => o.name));
    expect(
      [...registered].filter((r) => !documented.has(r)),
      'routes missing from the document',
    ).toEqual([]);
    expect(operations.length).toBeGreaterThan(40);
  });

  it('gives every operation a 2xx response schema', () => {
    const missing = operations
      .filter(({ op }) => {
        const ok = Object.entries(op.responses ?? {}).filter(([code]) => /^2\d\d$/.test(code));
        // 204 has no body by definition; any other 2xx must describe its body.
        return !ok.length || !ok.every(([code, r]) => code === '204' || hasSchema(r.content));
      })
      .map((o) => o.name);
    expect(missing, `operations without a 2xx response schema:\n  ${missing.join('\n  ')}`).toEqual([]);
  });

  it('gives every operation the coded error shape for 4xx and 5xx', () => {
    const missing = operations.filter(({ op }) => !op.responses?.['4XX'] || !op.responses['5XX']).map((o) => o.name);
    expect(missing, `operations without the error responses:\n  ${missing.join('\n  ')}`).toEqual([]);
    expect(doc.components?.schemas?.HeatError).toMatchObject({ required: ['code', 'message'] });
  });

  it('gives every request body a schema', () => {
    const missing = operations.filter(({ op }) => op.requestBody && !hasSchema(op.requestBody.content)).map((o) => o.name);
    expect(missing, `request bodies without a schema:\n  ${missing.join('\n  ')}`).toEqual([]);
  });
});
