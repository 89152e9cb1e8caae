/**
 * zh-CN and en carry exactly the same keys, no empty strings, and the same {placeholders};
 * every code the data can carry (incident kinds, causes, severities, statuses, order statuses,
 * escalation levels, device kinds, station faults, replay statuses) has a text in both, and no
 * text is kept for a code that does not exist. The browser walk (tests/browser-i18n.test.ts)
 * checks what is actually on screen.
 */
import { describe, expect, it } from 'vitest';
import { en } from '../dashboard/src/i18n/en.ts';
import { zhCN } from '../dashboard/src/i18n/zh-CN.ts';
import { CauseClassSchema, IncidentKindSchema, SeveritySchema } from '../domain/incident.schema.ts';
import { MeasurementResultSchema, OrderStatusSchema } from '../domain/orders/order.schema.ts';
import { defaultPolicy } from '../domain/policy.ts';
import { ReplayStatusSchema } from '../domain/replay.schema.ts';
import { STATION_FAULTS } from '../domain/rules/station.rule.ts';
import { DeviceKindSchema } from '../domain/topology.schema.ts';
import { REJECT_REASONS } from '../ingest/telemetry.validator.ts';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
/** The values of a TypeBox enum or union of literals. */
const values = (schema: unknown): string[] => {
  const s = schema as { enum?: string[]; anyOf?: { const: string }[] };
  return s.enum ?? s.anyOf!.map((x) => x.const);
};

/** Each prefix the dashboard builds keys from data with (`i18n.tx(prefix, code)`), and every code. */
const CODES: Record<string, readonly string[]> = {
  kind: values(IncidentKindSchema),
  cause: values(CauseClassSchema),
  severity: values(SeveritySchema),
  status: ['open', 'resolved'], // IncidentSchema.status
  orderStatus: values(OrderStatusSchema),
  escalation: defaultPolicy.service.escalation.map((e) => e.level), // N21
  deviceKind: values(DeviceKindSchema),
  fault: STATION_FAULTS,
  'replay.status': values(ReplayStatusSchema),
  verdict: values(MeasurementResultSchema.properties.verdict), // N30–N33
  deadLetter: [...REJECT_REASONS, 'store_rejected'], // ingest/app.ts: a batch the store refused
};

describe('i18n tables', () => {
  it('have the same keys in zh-CN and en', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zhCN).sort());
  });

  it('have no empty texts', () => {
    for (const table of [zhCN, en] as Record<string, string>[]) {
      const empty = Object.entries(table).filter(([, v]) => v.trim() === '');
      expect(empty).toEqual([]);
    }
  });

  it('use the same placeholders in both languages', () => {
    const differing = Object.keys(zhCN).filter(
      (k) => placeholders((zhCN as Record<string, string>)[k]!).join() !== placeholders((en as Record<string, string>)[k]!).join(),
    );
    expect(differing).toEqual([]);
  });

  it('have a text for every code the data carries, and none for codes that do not exist', () => {
    for (const [prefix, codes] of Object.entries(CODES)) {
      const want = codes.map((c) => `${prefix}.${c}`).sort();
      const have = Object.keys(zhCN)
        .filter((k) => k.startsWith(`${prefix}.`) && !k.slice(prefix.length + 1).includes('.'))
        .sort();
      expect(have, prefix).toEqual(want);
    }
  });

  it('write Chinese in zh-CN (a text equal to its English one is an untranslated copy, except units and symbols)', () => {
    // A language's own name is the same in both tables on purpose (lang.en = English).
    const same = Object.keys(zhCN).filter((k) => {
      if (k.startsWith('lang.')) return false;
      const z = (zhCN as Record<string, string>)[k]!;
      return z === (en as Record<string, string>)[k] && /[A-Za-z]{3,}/.test(z.replace(/\{\w+\}/g, ''));
    });
    expect(same).toEqual([]);
  });
});
