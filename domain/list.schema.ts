/**
 * Arrays in response schemas. The records the services return hold readonly arrays; a
 * response schema typed `T[]` would refuse them, so responses list `ListOf(T)` (readonly in
 * TypeScript, a plain JSON Schema array on the wire).
 */
import Type, { type TArray, type TArrayOptions, type TImmutable, type TSchema } from 'typebox';

export const ListOf = <T extends TSchema>(item: T, options?: TArrayOptions): TImmutable<TArray<T>> =>
  Type.Immutable(Type.Array(item, options));
