/**
 * Forecast routes (issue #20): weather forecasts in (REST here; MQTT on topics.forecast goes
 * through the same `acceptForecast`), and the forecaster's views out — the cold risk of each
 * monitored apartment ("tomorrow" on the map), curve advice that engineers approve or dismiss,
 * and the balancing diagnosis. Every route declares its roles (default-deny).
 */
import type { FastifyBaseLogger } from 'fastify';
import { HOUR_MS } from '../../domain/clock.ts';
import { IdParamsSchema } from '../../domain/api.schema.ts';
import { ListOf } from '../../domain/list.schema.ts';
import { HeatError } from '../../domain/errors.ts';
import {
  AdviceCreateSchema,
  AdviceSchema,
  BalanceResponseSchema,
  ForecastAcceptedSchema,
  OptionalStationQuerySchema,
  RiskResponseSchema,
  StoredForecastSchema,
  StationQuerySchema,
} from '../../domain/forecast/forecast.api.schema.ts';
import { validateForecast, WeatherForecastSchema, type ForecastValidation } from '../../domain/forecast/weather.schema.ts';
import { forecastStoreBeside } from '../../storage/readings/forecast.store.ts';
import { STAFF_ROLES } from '../auth.service.ts';
import { who, type ApiContext, type App } from '../context.ts';
import { ForecastAdviceRepository } from '../forecast.repository.ts';
import { ForecastService } from '../forecast.service.ts';

/** Who may send forecasts and decide curve advice: the people who run the plant. */
const ENGINEERS = { roles: ['admin', 'engineer'] as const };
const STAFF = { roles: STAFF_ROLES };
const tags = ['forecast'];

export interface ForecastRoutes {
  /** A forecast from MQTT (service account): validated and stored like a REST one; never throws. */
  acceptMessage(payload: unknown): Promise<ForecastValidation>;
  readonly counters: { accepted: number; refused: number };
}

export function registerForecastRoutes(app: App, ctx: ApiContext): ForecastRoutes {
  const forecasts = forecastStoreBeside(ctx.store, ctx.config.dataDir);
  const advice = new ForecastAdviceRepository(ctx.registry.db);
  const service = new ForecastService({
    city: () => ctx.registry.city(),
    store: ctx.store,
    forecasts,
    policy: ctx.policy,
    policyCity: ctx.config.city,
    now: () => ctx.clock.now(),
  });
  const counters = { accepted: 0, refused: 0 };
  app.addHook('onClose', () => forecasts.close());

  const check = (body: unknown): ForecastValidation => {
    const v = validateForecast(body, { now: ctx.clock.now(), maxFutureSkewMs: ctx.policy.validation.maxFutureSkewMin * 60_000 });
    if (!v.ok) return v;
    if (v.forecast.city !== ctx.config.city)
      return { ok: false, reason: 'bad_shape', detail: `/city: this platform serves ${ctx.config.city}` };
    if (v.forecast.stationId && !ctx.registry.getStation(v.forecast.stationId))
      return { ok: false, reason: 'bad_shape', detail: '/stationId: unknown station' };
    return v;
  };
  const store = async (v: Extract<ForecastValidation, { ok: true }>) => {
    await forecasts.put(v.forecast);
    service.invalidate();
    counters.accepted++;
  };

  app.post(
    '/api/v1/forecasts',
    { config: ENGINEERS, schema: { tags, body: WeatherForecastSchema, response: { 201: ForecastAcceptedSchema } } },
    async (req, reply) => {
      const v = check(req.body);
      if (!v.ok) {
        counters.refused++;
        throw new HeatError('HEAT_ERR_VALIDATION', `${v.detail} (${v.reason})`, { reason: v.reason });
      }
      await store(v);
      void reply.code(201);
      return {
        city: v.forecast.city,
        ...(v.forecast.stationId ? { stationId: v.forecast.stationId } : {}),
        issuedAt: v.forecast.issuedAt,
        hours: v.forecast.hours.length,
      };
    },
  );

  app.get(
    '/api/v1/forecasts/latest',
    { config: STAFF, schema: { tags, querystring: OptionalStationQuerySchema, response: { 200: StoredForecastSchema } } },
    async (req) => {
      const f = await forecasts.latest(ctx.config.city, req.query.stationId);
      if (!f) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no forecast stored');
      return f;
    },
  );

  const stationOr404 = (id: string) => {
    if (!ctx.registry.getStation(id)) throw new HeatError('HEAT_ERR_NOT_FOUND', 'unknown station');
  };

  app.get(
    '/api/v1/forecasts/risk',
    { config: STAFF, schema: { tags, querystring: OptionalStationQuerySchema, response: { 200: RiskResponseSchema } } },
    async (req) => {
      const ids = req.query.stationId ? [req.query.stationId] : ctx.registry.listStations().map((s) => s.id);
      if (req.query.stationId) stationOr404(req.query.stationId);
      const stations = [];
      for (const id of ids) {
        const r = await service.risk(id);
        if (r) stations.push(r);
      }
      return { stations };
    },
  );

  app.get(
    '/api/v1/forecasts/balance',
    { config: STAFF, schema: { tags, querystring: StationQuerySchema, response: { 200: BalanceResponseSchema } } },
    async (req) => {
      stationOr404(req.query.stationId);
      const d = await service.balance(req.query.stationId);
      if (!d) throw new HeatError('HEAT_ERR_NOT_FOUND', 'unknown station');
      return { ...d, items: d.items.map((i) => ({ ...i, apartments: [...i.apartments] })) };
    },
  );

  app.get(
    '/api/v1/forecasts/advice',
    { config: STAFF, schema: { tags, querystring: OptionalStationQuerySchema, response: { 200: ListOf(AdviceSchema) } } },
    (req) => advice.list(req.query.stationId),
  );

  // Computing a proposal stores it: a POST, so a crawler's GET never creates one.
  app.post(
    '/api/v1/forecasts/advice',
    { config: ENGINEERS, schema: { tags, body: AdviceCreateSchema, response: { 201: AdviceSchema } } },
    async (req, reply) => {
      stationOr404(req.body.stationId);
      const a = await service.advice(req.body.stationId);
      if (!a) throw new HeatError('HEAT_ERR_NOT_FOUND', 'unknown station');
      void reply.code(201);
      return advice.add(a, ctx.clock.now());
    },
  );

  for (const [action, status] of [
    ['approve', 'approved'],
    ['dismiss', 'dismissed'],
  ] as const) {
    app.post(
      `/api/v1/forecasts/advice/:id/${action}`,
      { config: ENGINEERS, schema: { tags, params: IdParamsSchema, response: { 200: AdviceSchema } } },
      (req) => {
        const cur = advice.get(req.params.id);
        if (!cur) throw new HeatError('HEAT_ERR_NOT_FOUND');
        // Advice is for the forecast it was made on: a day-old proposal is not approved blindly.
        if (status === 'approved' && ctx.clock.now() - cur.createdAt > 24 * HOUR_MS)
          throw new HeatError('HEAT_ERR_CONFLICT', 'advice older than 24 h; ask for a new one');
        if (!advice.decide(cur.id, status, who(req).username, ctx.clock.now()))
          throw new HeatError('HEAT_ERR_CONFLICT', `advice already ${cur.status}`);
        return advice.get(cur.id)!;
      },
    );
  }

  return {
    counters,
    async acceptMessage(payload: unknown): Promise<ForecastValidation> {
      const v = check(payload);
      if (!v.ok) {
        counters.refused++;
        return v;
      }
      await store(v);
      return v;
    },
  };
}

/** Log line for an MQTT forecast (object first, then message). */
export function logForecastMessage(log: FastifyBaseLogger, v: ForecastValidation): void {
  if (v.ok)
    log.info(
      { city: v.forecast.city, stationId: v.forecast.stationId, issuedAt: v.forecast.issuedAt, hours: v.forecast.hours.length },
      'forecast stored',
    );
  else log.warn({ reason: v.reason, detail: v.detail }, 'forecast refused');
}
