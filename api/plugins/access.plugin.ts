/**
 * Default-deny access control (issue 13 finding 1). Runs as the first `onRequest` hook on the
 * *routed* request: the router has already decoded the target (`/%61pi/…`), dropped the
 * origin of an absolute-form target (`GET http://x/api/…`) and picked the route, so the
 * check reads the config of the route that will actually run, whatever the spelling.
 *
 * - A route is open only when its config says `public: true`; one that declares neither
 *   `public` nor `roles` (a route someone forgot) is denied to everybody — 401 without a
 *   session, 403 with one — and logged once at start-up.
 * - An unmatched request reaches no route handler: the not-found handler answers 404.
 * - The check is in `onRequest`, before the body is parsed or validated and before any
 *   handler runs, so a refused request has no side effect.
 * - Refusals are counted (`refused401`, `refused403`) and audited (entity `access`); the
 *   audit is capped per client address and minute so an anonymous flood cannot grow the
 *   audit log without bound (the counters still count every refusal).
 * - A refusal whose audit entry the disk refuses (issue 17) is still refused, with the 503 of
 *   any records.db fault (HEAT_ERR_RECORDS_UNAVAILABLE), counted in `refusalsNotAudited` and
 *   shown in /health; nothing is served unaudited, and the next refusal is audited again.
 * - Answers to signed-in requests are personal data: `Cache-Control: no-store`.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Clock } from '../../domain/clock.ts';
import { HeatError } from '../../domain/errors.ts';
import type { RecordsHealth } from '../../storage/records/records.health.ts';
import type { AuditRepository } from '../audit.repository.ts';
import { bearer, type AuthService } from '../auth.service.ts';
import type { App } from '../context.ts';

export interface RouteAccess {
  readonly method: string;
  readonly url: string;
  readonly roles?: readonly string[];
  readonly public?: boolean;
}

export const accessDefaults = Object.freeze({
  /** Refusals written to the audit log per client address per minute; the rest are only counted. */
  auditedRefusalsPerAddressPerMinute: 30,
});

export interface AccessCounters {
  refused401: number;
  refused403: number;
  refusalsNotAudited: number;
}

export interface AccessControl {
  /** Every route with its access config, read when asked (other hooks may complete a route's config after it is added). */
  routes(): RouteAccess[];
  readonly counters: AccessCounters;
}

export function installAccessControl(
  app: App,
  deps: { auth: AuthService; audit: AuditRepository; clock: Clock; records?: RecordsHealth },
): AccessControl {
  const added: RouteOptions[] = [];
  const counters: AccessCounters = { refused401: 0, refused403: 0, refusalsNotAudited: 0 };
  const audited = new Map<string, number>();
  let auditMinute = -1;

  app.addHook('onRoute', (route) => {
    added.push(route);
  });
  app.addHook('onReady', (done) => {
    for (const r of added) {
      const c = r.config as { public?: boolean; roles?: readonly string[] } | undefined;
      if (c?.public !== true && !c?.roles)
        app.log.warn({ method: r.method, url: r.url }, 'route declares neither roles nor public: denied to everyone');
    }
    done();
  });

  const refuse = (req: FastifyRequest, status: 401 | 403, actor: string, role?: string): HeatError => {
    if (status === 401) counters.refused401++;
    else counters.refused403++;
    const minute = Math.floor(deps.clock.now() / 60_000);
    if (minute !== auditMinute) {
      audited.clear();
      auditMinute = minute;
    }
    const n = audited.get(req.ip) ?? 0;
    if (n < accessDefaults.auditedRefusalsPerAddressPerMinute) {
      try {
        deps.audit.add({
          at: deps.clock.now(),
          actor,
          entity: 'access',
          entityId: `${req.method} ${req.routeOptions.url ?? ''}`,
          action: 'refused',
          detail: { status, target: req.url.slice(0, 200), ip: req.ip, ...(role ? { role } : {}) },
        });
      } catch (err) {
        // Thrown on to the error handler: a disk fault answers 503 (and marks /health).
        counters.refusalsNotAudited++;
        throw err;
      }
      audited.set(req.ip, n + 1);
      deps.records?.succeeded();
    } else counters.refusalsNotAudited++;
    return status === 401 ? new HeatError('HEAT_ERR_UNAUTHENTICATED') : new HeatError('HEAT_ERR_FORBIDDEN', undefined, { reason: 'role' });
  };

  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    // No route matched: only the not-found handler runs (a coded 404, or the SPA's index.html).
    if (!req.routeOptions.url) return done();
    const cfg = req.routeOptions.config as { public?: boolean; roles?: readonly string[] };
    if (cfg.public === true) return done();
    const token = bearer(req.headers.authorization);
    const session = deps.auth.session(token);
    if (!session) return done(refuse(req, 401, 'anonymous'));
    const person = session.person;
    if (!cfg.roles?.includes(person.role)) return done(refuse(req, 403, person.username, person.role));
    req.person = person;
    req.session = session;
    req.sessionToken = token;
    void reply.header('cache-control', 'no-store');
    done();
  });

  return {
    counters,
    routes: () =>
      added.flatMap((r) => {
        const c = r.config as { public?: boolean; roles?: readonly string[] } | undefined;
        return [r.method]
          .flat()
          .filter((m) => m !== 'HEAD')
          .map((method) => ({
            method,
            url: r.url,
            ...(c?.roles ? { roles: c.roles } : {}),
            ...(c?.public === true ? { public: true } : {}),
          }));
      }),
  };
}
