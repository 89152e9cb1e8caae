/**
 * fastify serialises every answer through its response schema (fast-json-stringify), which
 * drops any property the schema does not list. The handlers' return types are checked
 * against the schemas by the type provider, but a property the schema lacks still passes
 * that check; so each record a repository or service builds by hand is compared here, field
 * by field and level by level, with the schema that carries it (expectTypeOf, checked by
 * tsc), and the city policies — the largest such record — are validated at run time too.
 */
import Value from 'typebox/value';
import type { Static } from 'typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { PersonSchema } from '../domain/api.schema.ts';
import { StoredForecastSchema } from '../domain/forecast/forecast.api.schema.ts';
import type { WeatherForecast } from '../domain/forecast/weather.schema.ts';
import { AuditEntrySchema, KpisSchema, OutageSchema } from '../domain/operations.schema.ts';
import type { MeasurementResult } from '../domain/measurement.ts';
import type { Kpis } from '../domain/orders/kpi.ts';
import type { Order, OrderTeamCopy } from '../domain/orders/order.ts';
import { MeasurementResultSchema, OrderNotificationSchema, OrderSchema, OrderTeamViewSchema } from '../domain/orders/order.schema.ts';
import { cityOverrides, policyForCity, type HeatingPolicy } from '../domain/policy.ts';
import { HeatingPolicySchema } from '../domain/policy.schema.ts';
import type { Reading } from '../domain/reading.ts';
import { HistoryPointSchema, ReadingSchema, ReadingScopeSchema } from '../domain/reading.schema.ts';
import { DeadLetterSchema, DeviceLocationSchema } from '../domain/registry.schema.ts';
import type { DeviceLocation } from '../domain/topology.schema.ts';
import type { DeadLetter } from '../storage/readings/dead-letter.repository.ts';
import type { HistoryPoint, ReadingScope } from '../storage/readings/reading-store.ts';
import type { AuditEntry } from './audit.repository.ts';
import type { Notification } from './orders.repository.ts';
import type { Outage } from './outages.repository.ts';
import type { Person } from './people.repository.ts';

/** The fields of a type, recursively, with readonly-ness and leaf types set aside: what serialisation keeps. */
type Shape<T> = T extends readonly (infer U)[]
  ? Shape<U>[]
  : T extends object
    ? { -readonly [K in keyof T]-?: Shape<Exclude<T[K], undefined>> }
    : 'leaf';

describe('response schemas list every field of the records they carry', () => {
  it('orders, their team copy, measurement results and notifications', () => {
    expectTypeOf<Shape<Static<typeof OrderSchema>>>().toEqualTypeOf<Shape<Order>>();
    expectTypeOf<Shape<Static<typeof OrderTeamViewSchema>>>().toEqualTypeOf<Shape<OrderTeamCopy>>();
    expectTypeOf<Shape<Static<typeof MeasurementResultSchema>>>().toEqualTypeOf<Shape<MeasurementResult>>();
    expectTypeOf<Shape<Static<typeof OrderNotificationSchema>>>().toEqualTypeOf<Shape<Notification>>();
    expect(Object.keys(OrderSchema.properties)).toContain('measurement');
  });

  it('people, outages, the audit log, KPIs', () => {
    expectTypeOf<Shape<Static<typeof PersonSchema>>>().toEqualTypeOf<Shape<Person>>();
    expectTypeOf<Shape<Static<typeof OutageSchema>>>().toEqualTypeOf<Shape<Outage>>();
    expectTypeOf<Shape<Static<typeof AuditEntrySchema>>>().toEqualTypeOf<Shape<AuditEntry>>();
    expectTypeOf<Shape<Static<typeof KpisSchema>>>().toEqualTypeOf<Shape<Kpis>>();
    expect(Object.keys(KpisSchema.properties)).toEqual([
      'from',
      'to',
      'compliance',
      'orders',
      'callback',
      'satisfaction',
      'medianMinutes',
      'escalationsByLevel',
      'slaBreachesByKind',
    ]);
  });

  it('readings, history, scopes, device locations, dead letters, stored forecasts', () => {
    expectTypeOf<Shape<Static<typeof ReadingSchema>>>().toEqualTypeOf<Shape<Reading>>();
    expectTypeOf<Shape<Static<typeof HistoryPointSchema>>>().toEqualTypeOf<Shape<HistoryPoint>>();
    expectTypeOf<Shape<Static<typeof ReadingScopeSchema>>>().toEqualTypeOf<Shape<ReadingScope>>();
    expectTypeOf<Shape<Static<typeof DeviceLocationSchema>>>().toEqualTypeOf<Shape<DeviceLocation>>();
    expectTypeOf<Shape<Static<typeof DeadLetterSchema>>>().toEqualTypeOf<Shape<DeadLetter>>();
    expectTypeOf<Shape<Static<typeof StoredForecastSchema>>>().toEqualTypeOf<Shape<WeatherForecast>>();
    expect(Value.Check(HistoryPointSchema, { ts: 0, value: null })).toBe(true);
  });

  it("every city's policy, as JSON carries it (an unbounded refund band as null)", () => {
    expectTypeOf<Shape<Static<typeof HeatingPolicySchema>>>().toEqualTypeOf<Shape<HeatingPolicy>>();
    for (const city of Object.keys(cityOverrides)) {
      const json: unknown = JSON.parse(JSON.stringify(policyForCity(city)));
      expect(Value.Errors(HeatingPolicySchema, json), city).toEqual([]);
    }
  });
});
