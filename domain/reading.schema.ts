/**
 * Readings over REST (GET /api/v1/measurements): the latest reading per device in a scope
 * and, with `field`, the aggregated history. Mirrors `Reading` (reading.ts) and the store's
 * HistoryPoint; reading.schema.test.ts checks both.
 */
import Type, { type Static } from 'typebox';
import { DeviceKindSchema, PlaceIds } from './topology.schema.ts';
import { ListOf } from './list.schema.ts';

export const ReadingSchema = Type.Object({
  deviceId: Type.String(),
  kind: DeviceKindSchema,
  ts: Type.Number({ description: 'event time, epoch ms' }),
  fields: Type.Record(Type.String(), Type.Number()),
  ...PlaceIds,
});
export type ReadingDto = Static<typeof ReadingSchema>;

/** One aggregation window; `value` is null for a window without readings. */
export const HistoryPointSchema = Type.Object({
  ts: Type.Number({ description: 'window start, epoch ms' }),
  value: Type.Union([Type.Number(), Type.Null()]),
});
export type HistoryPointDto = Static<typeof HistoryPointSchema>;

export const ReadingScopeSchema = Type.Object({
  deviceId: Type.Optional(Type.String()),
  ...PlaceIds,
  kind: Type.Optional(DeviceKindSchema),
});

export const MeasurementsSchema = Type.Object({
  scope: ReadingScopeSchema,
  latest: ListOf(ReadingSchema),
  /** Only when the query names a `field`. */
  history: Type.Optional(ListOf(HistoryPointSchema)),
});
export type MeasurementsDto = Static<typeof MeasurementsSchema>;
