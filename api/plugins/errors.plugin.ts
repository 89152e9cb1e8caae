/**
 * One error handler for the whole API (CONVENTIONS.md #7): every answer carries a
 * HEAT_ERR_* code from domain/errors.ts; a schema failure names each field in
 * `details.fields` (`body/role`, `body/extra` for a property the schema does not allow);
 * fastify's own 4xx errors keep their status and get that status's code (413, 404, 403,
 * 409, 415 — not all HEAT_ERR_VALIDATION); a 5xx never leaks internals. Also the not-found
 * handler: client-side routes of the dashboard get index.html, everything else a coded 404.
 * Every /api route gets the error shape as its 4xx/5xx response schema.
 */
import type { FastifyError } from 'fastify';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorResponseSchema } from '../../domain/api.schema.ts';
import { HeatError, errorCatalogue, type ErrorCode } from '../../domain/errors.ts';
import type { RecordsHealth } from '../../storage/records/records.health.ts';
import type { App } from '../context.ts';

/** The code for a 4xx that did not come from our own code (fastify, a plugin, the body parser). */
const codeForStatus: Readonly<Record<number, ErrorCode>> = {
  401: 'HEAT_ERR_UNAUTHENTICATED',
  403: 'HEAT_ERR_FORBIDDEN',
  404: 'HEAT_ERR_NOT_FOUND',
  409: 'HEAT_ERR_CONFLICT',
  413: 'HEAT_ERR_PAYLOAD_TOO_LARGE',
  415: 'HEAT_ERR_UNSUPPORTED_MEDIA',
  429: 'HEAT_ERR_RATE_LIMITED',
};

interface ValidationIssue {
  readonly keyword?: string;
  readonly schemaPath?: string;
  readonly instancePath?: string;
  readonly params?: Record<string, unknown>;
}

/** Field paths (`body/x`, `querystring/limit`) a validation failure is about. */
export function validationFields(context: string, issues: readonly ValidationIssue[]): string[] {
  const fields = new Set<string>();
  for (const v of issues) {
    const path = `${context}${v.instancePath ?? ''}`;
    const p = v.params ?? {};
    const names = p.requiredProperties ?? p.missingProperty ?? p.additionalProperties ?? p.additionalProperty;
    if (Array.isArray(names)) for (const n of names) fields.add(`${path}/${String(n)}`);
    else if (typeof names === 'string') fields.add(`${path}/${names}`);
    else fields.add(path);
  }
  return [...fields];
}

/**
 * Fields a 400 of our own names in its message (`body/roomId: …; body/x: …`): every 400
 * carries `details.fields` (docs/errors.md), also when the check was in a handler.
 */
export function fieldsOfMessage(message: string): string[] {
  return [...message.matchAll(/(?:^|; )((?:body|querystring|params|headers)(?:\/[\w.,-]+)*)/g)].map((m) => m[1]!);
}

function withFields(details: unknown, message: string, fallback: readonly string[]): Record<string, unknown> {
  const d =
    details !== null && typeof details === 'object'
      ? (details as Record<string, unknown>)
      : details === undefined
        ? {}
        : { value: details };
  if (Array.isArray(d.fields)) return d;
  const found = fieldsOfMessage(message);
  return { ...d, fields: found.length ? found : [...fallback] };
}

/** The error shape's name in the OpenAPI components (and for `$ref`). */
export const ERROR_SCHEMA_ID = 'HeatError';

export function installErrorHandling(
  app: App,
  opts: { counters: { http5xx: number }; dashboardDir?: string; records?: RecordsHealth },
): void {
  // Every API route answers its errors in the one coded shape: declared here, once, so each
  // operation of the OpenAPI document lists it (and fast-json-stringify serialises it).
  // The shape is a shared schema (`HeatError`, a component of the document), referenced by each.
  app.addSchema({ $id: ERROR_SCHEMA_ID, ...ErrorResponseSchema });
  const ref = { $ref: `${ERROR_SCHEMA_ID}#` };
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const schema = (route.schema ??= {});
    const response = (schema.response ??= {}) as Record<string, unknown>;
    response['4xx'] ??= ref;
    response['5xx'] ??= ref;
  });
  app.setErrorHandler((err: FastifyError | HeatError, req, reply) => {
    if (err instanceof HeatError) {
      if (err.code === 'HEAT_ERR_RATE_LIMITED') {
        const retry = (err.details as { retryAfterSec?: number } | undefined)?.retryAfterSec;
        if (retry) void reply.header('retry-after', String(retry));
      }
      const details = err.status === 400 ? withFields(err.details, err.message, ['body']) : err.details;
      void reply.code(err.status).send({ code: err.code, message: err.message, ...(details !== undefined ? { details } : {}) });
      return;
    }
    const fe = err;
    if (fe.validation) {
      const fields = validationFields(fe.validationContext ?? 'body', fe.validation);
      void reply.code(400).send({ code: 'HEAT_ERR_VALIDATION', message: `${fields.join('; ')}: ${fe.message}`, details: { fields } });
      return;
    }
    const status = fe.statusCode;
    if (status && status >= 400 && status < 500) {
      const code = codeForStatus[status] ?? 'HEAT_ERR_VALIDATION';
      // Our own catalogue message: fastify's texts can name internals (parser names, limits).
      const message = code === 'HEAT_ERR_VALIDATION' ? fe.message : errorCatalogue[code].message;
      // A 400 from the parser (bad JSON, empty body) is about the body.
      void reply.code(status).send({ code, message, ...(status === 400 ? { details: withFields(undefined, message, ['body']) } : {}) });
      return;
    }
    opts.counters.http5xx++;
    // The disk refused a records.db write (issue 17): the write's transaction rolled back, so
    // nothing was saved; say so with a 503 the caller can retry, not a 500.
    if (opts.records?.failed(err)) {
      const sqlite = (err as { code?: string }).code;
      req.log.error({ err, sqlite }, 'records.db write refused by the disk');
      void reply
        .code(503)
        .send({ code: 'HEAT_ERR_RECORDS_UNAVAILABLE', message: errorCatalogue.HEAT_ERR_RECORDS_UNAVAILABLE.message, details: { sqlite } });
      return;
    }
    req.log.error({ err }, 'unhandled error');
    void reply.code(500).send({ code: 'HEAT_ERR_INTERNAL', message: errorCatalogue.HEAT_ERR_INTERNAL.message });
  });

  const index = opts.dashboardDir ? resolve(opts.dashboardDir, 'index.html') : undefined;
  app.setNotFoundHandler((req, reply) => {
    // SPA fallback: client-side routes get index.html; API and socket paths get a coded 404.
    const path = req.url.split('?')[0]!;
    if (index && req.method === 'GET' && !path.startsWith('/api/') && !path.startsWith('/socket.io')) {
      void reply.type('text/html; charset=utf-8').send(createReadStream(index));
      return;
    }
    void reply.code(404).send({ code: 'HEAT_ERR_NOT_FOUND', message: errorCatalogue.HEAT_ERR_NOT_FOUND.message });
  });
}
