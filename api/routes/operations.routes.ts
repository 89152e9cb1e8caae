/** Incidents, planned outages (N9), KPIs, the audit log and CSV imports. */
import Type from 'typebox';
import { IdParamsSchema, ImportParamsSchema, ImportReportSchema, KpiQuerySchema, OutageBodySchema } from '../../domain/api.schema.ts';
import { ListOf } from '../../domain/list.schema.ts';
import { AuditEntrySchema, IncidentDetailSchema, KpisSchema, OutageListSchema, OutageSchema } from '../../domain/operations.schema.ts';
import { IncidentSchema, IncidentStatusSchema } from '../../domain/incident.schema.ts';
import { HeatingPolicySchema } from '../../domain/policy.schema.ts';
import { DAY_MS } from '../../domain/clock.ts';
import { HeatError } from '../../domain/errors.ts';
import { ALL_ROLES, STAFF_ROLES } from '../auth.service.ts';
import { OUTAGE_ANNOUNCER_ROLES } from '../../domain/roles.ts';
import { who, type ApiContext, type App } from '../context.ts';
import { createOutage, importCsv, kpis } from '../operations.service.ts';

export function registerOperationsRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/incidents',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['incidents'],
        querystring: Type.Object({
          status: Type.Optional(IncidentStatusSchema),
          kind: Type.Optional(Type.String({ maxLength: 40 })),
          stationId: Type.Optional(Type.String({ maxLength: 64 })),
          apartmentId: Type.Optional(Type.String({ maxLength: 64 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
        }),
        response: { 200: ListOf(IncidentSchema) },
      },
    },
    (req) => {
      const p = who(req);
      const q = { ...req.query };
      if (p.role === 'resident') {
        if ((q.apartmentId && q.apartmentId !== p.apartmentId) || q.stationId)
          throw new HeatError('HEAT_ERR_FORBIDDEN', 'not your apartment');
        q.apartmentId = p.apartmentId ?? '__none__';
      }
      return ctx.incidents.list(q);
    },
  );
  app.get(
    '/api/v1/incidents/:id',
    { config: { roles: STAFF_ROLES }, schema: { tags: ['incidents'], params: IdParamsSchema, response: { 200: IncidentDetailSchema } } },
    (req) => {
      const i = ctx.incidents.get(req.params.id);
      if (!i) throw new HeatError('HEAT_ERR_NOT_FOUND');
      return { incident: i, order: ctx.ordersRepo.byIncident(i.id) ?? null };
    },
  );

  app.post(
    '/api/v1/outages',
    {
      config: { roles: OUTAGE_ANNOUNCER_ROLES },
      schema: { tags: ['outages'], body: OutageBodySchema, response: { 201: OutageSchema } },
    },
    (req, reply) => {
      const o = createOutage(ctx, req.body, who(req).username);
      void reply.code(201);
      return o;
    },
  );
  // Residents see the outages that reach their apartment (N9).
  app.get(
    '/api/v1/outages',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['outages'],
        querystring: Type.Object({ stationId: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 200: OutageListSchema },
      },
    },
    (req) => {
      const p = who(req);
      // N9: each home sees its own notice (when it was told, how far ahead), not the other homes'.
      if (p.role === 'resident')
        return ctx.outages.list({ apartmentId: p.apartmentId ?? '__none__' }).map(({ apartments: _a, ...o }) => ({
          ...o,
          ...(o.notices ? { notices: o.notices.filter((n) => n.apartmentId === p.apartmentId) } : {}),
        }));
      return ctx.outages.list({ stationId: req.query.stationId });
    },
  );

  // The city's policy (N-rules: standard, SLA clocks, callback hours) for the dashboard. Unbounded
  // refund bands are sent with maxShortfallC null (JSON has no Infinity).
  app.get(
    '/api/v1/policy',
    { config: { roles: ALL_ROLES }, schema: { tags: ['system'], response: { 200: HeatingPolicySchema } } },
    () => ctx.policy,
  );

  app.get(
    '/api/v1/kpis',
    {
      config: { roles: ['admin', 'dispatcher', 'station_head', 'manager', 'deputy_gm', 'general_manager', 'engineer'] },
      schema: { tags: ['kpis'], querystring: KpiQuerySchema, response: { 200: KpisSchema } },
    },
    (req) => {
      const to = req.query.to ?? ctx.clock.now();
      const from = req.query.from ?? to - 30 * DAY_MS;
      if (from >= to) throw new HeatError('HEAT_ERR_VALIDATION', 'querystring/from must be before to');
      return kpis(ctx, from, to);
    },
  );

  app.get(
    '/api/v1/audit',
    {
      config: { roles: ['admin', 'manager', 'deputy_gm', 'general_manager'] },
      schema: {
        tags: ['audit'],
        querystring: Type.Object({
          entity: Type.Optional(Type.String({ maxLength: 20 })),
          entityId: Type.Optional(Type.String({ maxLength: 128 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
        }),
        response: { 200: ListOf(AuditEntrySchema) },
      },
    },
    (req) => ctx.audit.list(req.query),
  );

  app.post(
    '/api/v1/import/:kind',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['import'],
        params: ImportParamsSchema,
        consumes: ['text/csv'],
        body: Type.String({ description: 'CSV text (text/csv), header row first' }),
        response: { 201: ImportReportSchema },
      },
    },
    async (req, reply) => {
      if (
        !String(req.headers['content-type'] ?? '').startsWith('text/csv') &&
        !String(req.headers['content-type'] ?? '').startsWith('text/plain')
      ) {
        throw new HeatError('HEAT_ERR_UNSUPPORTED_MEDIA', 'send the CSV as text/csv');
      }
      void reply.code(201);
      return importCsv(ctx, req.params.kind, req.body, who(req).username);
    },
  );
}
