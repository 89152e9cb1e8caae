/**
 * A closed set of strings as a schema: `Literals(['a', 'b'])` is `Type.Union([Type.Literal('a'),
 * Type.Literal('b')])` — the same JSON Schema (`anyOf` of `const`s, so the OpenAPI document and
 * the generated client do not change) and the same static type, written once per set.
 */
import Type, { type TLiteral, type TUnion } from 'typebox';

export type TLiterals<T extends readonly string[]> = TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;

export const Literals = <const T extends readonly string[]>(values: T): TLiterals<T> =>
  Type.Union(values.map((v) => Type.Literal(v))) as unknown as TLiterals<T>;
