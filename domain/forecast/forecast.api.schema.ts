/** REST bodies of the forecast routes (api/routes/forecast.routes.ts), one schema each for validation, types and OpenAPI. */
import Type, { type Static } from 'typebox';
import { ListOf } from '../list.schema.ts';
import { Literals } from '../literals.schema.ts';
import { ForecastHourSchema, WeatherForecastSchema } from './weather.schema.ts';
import { EpochMsSchema } from '../time.schema.ts';

export const StationQuerySchema = Type.Object({ stationId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
export const OptionalStationQuerySchema = Type.Object(
  { stationId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
  { additionalProperties: false },
);

export const ForecastAcceptedSchema = Type.Object({
  city: Type.String(),
  stationId: Type.Optional(Type.String()),
  issuedAt: EpochMsSchema,
  hours: Type.Integer(),
});

export const ApartmentRiskSchema = Type.Object({
  apartmentId: Type.String(),
  status: Literals(['ready', 'insufficient_data', 'no_station_data', 'stale']),
  probability: Type.Optional(Type.Number()),
  minC: Type.Optional(Type.Number()),
  minAt: Type.Optional(EpochMsSchema),
  sigmaC: Type.Optional(Type.Number()),
  fitRmseC: Type.Optional(Type.Number()),
  fitHours: Type.Optional(Type.Number()),
});
export const StationRiskSchema = Type.Object({
  stationId: Type.String(),
  origin: Type.Number(),
  horizonH: Type.Integer(),
  forecastIssuedAt: Type.Union([EpochMsSchema, Type.Null()]),
  apartments: ListOf(ApartmentRiskSchema),
});
export const RiskResponseSchema = Type.Object({ stations: ListOf(StationRiskSchema) });
export type RiskResponse = Static<typeof RiskResponseSchema>;

export const AdviceStatusSchema = Literals(['proposed', 'approved', 'dismissed']);
export const AdviceSchema = Type.Object({
  id: Type.String(),
  stationId: Type.String(),
  createdAt: EpochMsSchema,
  status: AdviceStatusSchema,
  decidedBy: Type.Optional(Type.String()),
  decidedAt: Type.Optional(EpochMsSchema),
  /** What the advisor computed (domain/forecast/curve.advisor.ts CurveAdvice). */
  advice: Type.Object({
    status: Literals(['advice', 'insufficient_data']),
    origin: Type.Number(),
    horizonH: Type.Integer(),
    offsetC: Type.Number(),
    apartments: Type.Integer(),
    apartmentsWithoutModel: Type.Integer(),
    coldestShare: Type.Number(),
    targetC: Type.Number(),
    coldestNowC: Type.Union([Type.Number(), Type.Null()]),
    coldestAdvisedC: Type.Union([Type.Number(), Type.Null()]),
    meanNowC: Type.Union([Type.Number(), Type.Null()]),
    meanAdvisedC: Type.Union([Type.Number(), Type.Null()]),
    estimatedEnergyChangePct: Type.Number(),
    targetUnreachable: Type.Boolean(),
  }),
});
export type AdviceRecord = Static<typeof AdviceSchema>;
export const AdviceCreateSchema = Type.Object({ stationId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

export const BalanceResponseSchema = Type.Object({
  stationId: Type.String(),
  stationMedianC: Type.Number(),
  residualSpreadC: Type.Number(),
  monitored: Type.Integer(),
  items: ListOf(
    Type.Object({
      kind: Literals(['building', 'riser', 'floor']),
      id: Type.String(),
      buildingId: Type.String(),
      entrance: Type.Optional(Type.Integer()),
      floor: Type.Optional(Type.Integer()),
      effectC: Type.Number(),
      z: Type.Number(),
      apartments: ListOf(Type.String()),
      evidence: Type.Record(Type.String(), Type.Number()),
    }),
  ),
});

/** GET /forecasts/latest: a stored forecast (the validated body, hours on whole hours). */
export const StoredForecastSchema = Type.Object({ ...WeatherForecastSchema.properties, hours: ListOf(ForecastHourSchema) });
