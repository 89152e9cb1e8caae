/**
 * Language-neutral texts on orders (issue #20): what the platform itself writes on an order —
 * the 服务内容 of a proactive or outage follow-up order, the reason it closed one — is stored as
 * a message key and its parameters, and each reader's screen renders it in their language
 * (order-texts.ts). The Chinese rendering is kept in `content` too, so the paper form (N20),
 * older clients and orders written before this field all still read.
 *
 * And the state of an order opened from a `predicted_cold`: predicted (nobody is cold yet),
 * confirmed by a real cold incident (a repair order from then on), or avoided (the horizon
 * passed without one).
 */
import Type, { type Static } from 'typebox';
import { EpochMsSchema } from '../time.schema.ts';

/** Parameter values: strings, numbers; a name ending in `At` is an epoch-ms time, rendered in the reader's zone. */
export const OrderTextSchema = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 64 }),
  params: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])),
});
export type OrderText = Static<typeof OrderTextSchema>;

export const PredictionStateSchema = Type.Enum(['predicted', 'confirmed', 'avoided']);
export type PredictionState = Static<typeof PredictionStateSchema>;

export const OrderPredictionSchema = Type.Object({
  /** The predicted_cold incident the order was opened from. */
  incidentId: Type.String(),
  state: PredictionStateSchema,
  /** The real cold incident that confirmed it, and when the order became a repair order (N8, N10, N21 start then). */
  confirmedBy: Type.Optional(Type.String()),
  confirmedAt: Type.Optional(EpochMsSchema),
  /** When the horizon passed without a real cold incident. */
  avoidedAt: Type.Optional(EpochMsSchema),
  /** What the dispatcher is told about the outcome (rendered in their language). */
  outcome: Type.Optional(OrderTextSchema),
});
export type OrderPrediction = Static<typeof OrderPredictionSchema>;
