/**
 * An instant as the REST responses carry it: epoch milliseconds, UTC. One schema, so every time
 * field of the contract says its unit in the OpenAPI document. Request bodies take the bounded
 * TimestampSchema instead (orders/order.schema.ts: a typo or an attack is refused there).
 */
import Type from 'typebox';

export const EpochMsSchema = Type.Number({ description: 'epoch ms' });
