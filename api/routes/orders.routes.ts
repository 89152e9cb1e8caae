/** Service orders: list, one record in three views (N20), creation by source, lifecycle steps, CSV export. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { IdParamsSchema } from '../../domain/api.schema.ts';
import {
  ComplaintBodySchema,
  OrderNotificationSchema,
  OrderRequestResultSchema,
  OrderViewQuerySchema,
  OrderViewSchema,
  OrdersQuerySchema,
} from '../../domain/orders/order.schema.ts';
import { ORDER_STEPS, STEP_ROLES, type OrderStepType, type PersonAction } from '../../domain/orders/order-steps.schema.ts';
import { textResponse } from '../../domain/api.schema.ts';
import { ORDER_FORM_INTAKE_FIELDS } from '../../domain/orders/order-form.ts';
import { HeatError } from '../../domain/errors.ts';
import { orderView, residentView, type Order } from '../../domain/orders/order.ts';
import { ALL_ROLES, STAFF_ROLES } from '../auth.service.ts';
import { isoCell, toCsv } from '../../domain/csv.ts';
import { assertApartment, who, type ApiContext, type App } from '../context.ts';
import type { Person, Role } from '../people.repository.ts';
import { ListOf } from '../../domain/list.schema.ts';

/** May this person see this order? Residents: orders on their apartment (404 otherwise); station roles: their office's grid. */
export function assertOrderAccess(p: Person, o: Order): void {
  if (p.role === 'resident') {
    if (!p.apartmentId || !o.apartments.includes(p.apartmentId)) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such order');
  } else if ((p.role === 'station_staff' || p.role === 'station_head') && o.officeId && p.officeId !== o.officeId) {
    throw new HeatError('HEAT_ERR_FORBIDDEN', 'order of another office');
  }
}

export const CSV_COLUMNS = [
  'number',
  'id',
  'source',
  'channel',
  'status',
  'subjectType',
  'apartmentId',
  'buildingId',
  'stationId',
  'officeId',
  'apartments',
  ...ORDER_FORM_INTAKE_FIELDS,
  'answeredAt',
  'onSiteAt',
  'resolvedAt',
  'cause',
  'callbackDueAt',
  'callbackAt',
  'callbackBy',
  'callbackResult',
  'satisfaction',
  'closedAt',
  'escalationLevel',
  'slaBreaches',
] as const;

// Never throws on an out-of-range stored time (issue 13 finding 8).
const iso = isoCell;

function csvRow(o: Order): unknown[] {
  return CSV_COLUMNS.map((c) => {
    switch (c) {
      case 'apartments':
        return o.apartments.join(' ');
      case 'escalationLevel':
        return o.escalations.at(-1)?.level ?? '';
      case 'slaBreaches':
        return o.slaBreaches.map((b) => b.kind).join(' ');
      case 'receivedAt':
      case 'appointmentAt':
      case 'issuedAt':
      case 'answeredAt':
      case 'onSiteAt':
      case 'resolvedAt':
      case 'callbackDueAt':
      case 'callbackAt':
      case 'closedAt':
        return iso(o[c]);
      default:
        return o[c];
    }
  });
}

export function registerOrderRoutes(app: App, ctx: ApiContext): void {
  const tags = ['orders'];

  app.get(
    '/api/v1/orders',
    { config: { roles: ALL_ROLES }, schema: { tags, querystring: OrdersQuerySchema, response: { 200: ListOf(OrderViewSchema) } } },
    (req) => {
      const p = who(req);
      const q = { ...req.query };
      if (p.role === 'resident') {
        if (q.apartmentId && q.apartmentId !== p.apartmentId) throw new HeatError('HEAT_ERR_FORBIDDEN', 'not your apartment');
        q.apartmentId = p.apartmentId ?? '__none__';
      }
      if ((p.role === 'station_staff' || p.role === 'station_head') && p.officeId) q.officeId = p.officeId;
      const list = ctx.ordersRepo.list({ ...q, limit: q.limit ?? 200 });
      return p.role === 'resident' ? list.map(residentView) : list;
    },
  );

  app.get(
    '/api/v1/orders/export.csv',
    {
      config: { roles: ['admin', 'dispatcher', 'manager', 'station_head'] },
      schema: {
        tags,
        querystring: OrdersQuerySchema,
        response: { 200: textResponse('text/csv', 'the orders as CSV (N20 columns), UTF-8 with BOM') },
      },
    },
    async (req, reply) => {
      const p = who(req);
      const q = { ...req.query };
      if (p.role === 'station_head' && p.officeId) q.officeId = p.officeId;
      const rows = ctx.ordersRepo.list(q).map(csvRow);
      void reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="orders.csv"');
      return toCsv(CSV_COLUMNS, rows, { bom: true });
    },
  );

  app.get(
    '/api/v1/orders/:id',
    {
      config: { roles: ALL_ROLES },
      schema: { tags, params: IdParamsSchema, querystring: OrderViewQuerySchema, response: { 200: OrderViewSchema } },
    },
    (req) => {
      const p = who(req);
      const o = ctx.ordersRepo.get(req.params.id);
      if (!o) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such order');
      assertOrderAccess(p, o);
      if (p.role === 'resident') return residentView(o);
      const view = req.query.view ?? (p.role === 'station_staff' ? 'team' : p.role === 'station_head' ? 'station' : 'company');
      return orderView(o, view);
    },
  );

  app.get(
    '/api/v1/orders/:id/notifications',
    { config: { roles: STAFF_ROLES }, schema: { tags, params: IdParamsSchema, response: { 200: ListOf(OrderNotificationSchema) } } },
    (req) => {
      const o = ctx.orders.get(req.params.id);
      assertOrderAccess(who(req), o);
      return ctx.ordersRepo.notifications(o.id);
    },
  );

  // A resident's request — a complaint or a measurement request — by hotline (a dispatcher types
  // it) or in the app (the resident, own apartment only); both take the same body and answer alike.
  const residentRequest =
    (intake: 'complaint' | 'measurementRequest') =>
    async (req: FastifyRequest<{ Body: Static<typeof ComplaintBodySchema> }>, reply: FastifyReply) => {
      const p = who(req);
      assertApartment(p, req.body.apartmentId);
      const channel = p.role === 'resident' ? 'app' : (req.body.channel ?? 'hotline');
      const r = ctx.orders[intake]({ ...req.body, channel }, p);
      void reply.code(r.created ? 201 : 200);
      return { linked: r.linked, order: p.role === 'resident' ? residentView(r.order) : r.order };
    };

  // A complaint: by hotline (a dispatcher types it) or in the app (the resident, own apartment only).
  app.post(
    '/api/v1/orders',
    {
      config: { roles: ['admin', 'dispatcher', 'resident'] },
      schema: { tags, body: ComplaintBodySchema, response: { 200: OrderRequestResultSchema, 201: OrderRequestResultSchema } },
    },
    residentRequest('complaint'),
  );

  app.post(
    '/api/v1/measurement-requests',
    {
      config: { roles: ['admin', 'dispatcher', 'resident'] },
      schema: { tags, body: ComplaintBodySchema, response: { 200: OrderRequestResultSchema, 201: OrderRequestResultSchema } },
    },
    residentRequest('measurementRequest'),
  );

  // The route names the step; the body only fills it. `type` is spread last so the route
  // always wins, and every body schema is closed, so a body naming a type is refused (#13.3).
  const step = (type: OrderStepType, roles: readonly Role[]): void => {
    const { path, body } = ORDER_STEPS[type];
    app.post(
      `/api/v1/orders/:id/${path}`,
      { config: { roles }, schema: { tags, params: IdParamsSchema, body, response: { 200: OrderViewSchema } } },
      (req) => {
        const p = who(req);
        assertOrderAccess(p, ctx.orders.get(req.params.id));
        const action = { ...(req.body ?? {}), type } as PersonAction;
        const o = ctx.orders.act(req.params.id, action, p);
        return p.role === 'resident' ? residentView(o) : o;
      },
    );
  };
  for (const [type, roles] of Object.entries(STEP_ROLES) as [OrderStepType, readonly Role[]][]) step(type, roles);
}
