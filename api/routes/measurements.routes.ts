/** Latest readings and history from the ReadingStore; a resident's scope is forced to their apartment. */
import { MeasurementsQuerySchema } from '../../domain/api.schema.ts';
import { MeasurementsSchema } from '../../domain/reading.schema.ts';
import { HOUR_MS } from '../../domain/clock.ts';
import { HeatError } from '../../domain/errors.ts';
import type { ReadingScope } from '../../storage/readings/reading-store.ts';
import { ALL_ROLES } from '../auth.service.ts';
import { who, type ApiContext, type App } from '../context.ts';

export function registerMeasurementRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/v1/measurements',
    {
      config: { roles: ALL_ROLES },
      schema: { tags: ['measurements'], querystring: MeasurementsQuerySchema, response: { 200: MeasurementsSchema } },
    },
    async (req) => {
      const q = req.query;
      const p = who(req);
      const scope: { -readonly [K in keyof ReadingScope]: ReadingScope[K] } = {};
      for (const k of ['deviceId', 'roomId', 'apartmentId', 'buildingId', 'stationId', 'officeId', 'kind'] as const)
        if (q[k]) (scope as Record<string, unknown>)[k] = q[k];
      if (p.role === 'resident') {
        // A resident reads only their apartment: anything else asked for is refused, not filtered.
        if (!p.apartmentId) throw new HeatError('HEAT_ERR_FORBIDDEN');
        if ((q.apartmentId && q.apartmentId !== p.apartmentId) || q.buildingId || q.stationId || q.officeId || q.deviceId)
          throw new HeatError('HEAT_ERR_FORBIDDEN', 'not your apartment');
        if (q.roomId && ctx.registry.listRooms(p.apartmentId).every((r) => r.id !== q.roomId))
          throw new HeatError('HEAT_ERR_FORBIDDEN', 'not your apartment');
        scope.apartmentId = p.apartmentId;
      } else if (!Object.keys(scope).length) {
        throw new HeatError(
          'HEAT_ERR_VALIDATION',
          'querystring: give a scope (deviceId, roomId, apartmentId, buildingId, stationId, officeId or kind)',
        );
      }
      const latest = await ctx.store.latest(scope);
      if (!q.field) return { scope, latest };
      const to = q.to ?? ctx.clock.now();
      const from = q.from ?? to - 24 * HOUR_MS;
      if (from >= to) throw new HeatError('HEAT_ERR_VALIDATION', 'querystring/from must be before to');
      // Windows align to the city's local clock: a 1 d window is a local day, 6 h windows start at
      // local 00/06/12/18 (the policy's utcOffsetMinutes, +480 for Beijing).
      const offsetMs = -ctx.policy.utcOffsetMinutes * 60_000;
      const history = await ctx.store.history({
        ...scope,
        field: q.field,
        from,
        to,
        windowMs: q.windowMs ?? HOUR_MS,
        agg: q.agg ?? 'mean',
        offsetMs,
      });
      return { scope, latest, history };
    },
  );
}
