/**
 * Scenario files (scenarios/*.json): a city, a time range, weather, timed faults, and the
 * incidents expected — kind, subject, cause, opened within a time window. `matchIncidents`
 * compares what a run found against that list: every expectation must be met its number of
 * times and nothing else may be found ("exactly the expected incidents").
 */
import { readFileSync } from 'node:fs';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Incident, IncidentEvent } from '../domain/incident.schema.ts';
import type { CityOptions } from './city.generator.ts';
import type { FaultSpec, WeatherOptions } from './thermal.model.ts';

const Time = Type.Union([Type.String({ minLength: 10 }), Type.Number()]);

export const ExpectationSchema = Type.Object({
  kind: Type.String(),
  /** Subject id; `*` matches any run of characters (e.g. "b0002-01-*"). */
  subject: Type.String(),
  cause: Type.Optional(Type.String()),
  exempt: Type.Optional(Type.Boolean()),
  /** The incident must open (event time of `opened`) within [from, to]. */
  from: Time,
  to: Time,
  /** How many incidents this line stands for (glob subjects); default exactly 1. */
  count: Type.Optional(Type.Integer({ minimum: 0 })),
  minCount: Type.Optional(Type.Integer({ minimum: 0 })),
  maxCount: Type.Optional(Type.Integer({ minimum: 0 })),
  note: Type.Optional(Type.String()),
});
export type Expectation = Static<typeof ExpectationSchema>;

export const ScenarioSchema = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  /** The console shows these: the scenario's name and what it shows, in each UI language. */
  title: Type.Optional(Type.Object({ 'zh-CN': Type.String(), en: Type.String() })),
  summary: Type.Optional(Type.Object({ 'zh-CN': Type.String(), en: Type.String() })),
  city: Type.Object(
    {
      seed: Type.Integer(),
      stations: Type.Integer({ minimum: 1 }),
      apartmentsPerStation: Type.Optional(Type.Integer({ minimum: 1 })),
      buildingsPerStation: Type.Optional(Type.Integer({ minimum: 1 })),
      maxFloors: Type.Optional(Type.Integer({ minimum: 1 })),
      sensorShare: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      gatewayShare: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      sensorIntervalsMin: Type.Optional(Type.Array(Type.Number({ minimum: 1 }))),
      meterIntervalMin: Type.Optional(Type.Number({ minimum: 1 })),
      policyCity: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  start: Time,
  end: Time,
  weather: Type.Optional(
    Type.Object({
      meanC: Type.Optional(Type.Number()),
      dailyAmplitudeC: Type.Optional(Type.Number()),
      variation: Type.Optional(Type.Boolean()),
    }),
  ),
  faults: Type.Array(
    Type.Object({ kind: Type.String(), at: Time, durationMin: Type.Optional(Type.Number({ minimum: 0 })) }, { additionalProperties: true }),
  ),
  expect: Type.Array(ExpectationSchema),
});
export type ScenarioFile = Static<typeof ScenarioSchema>;

export interface Scenario {
  readonly name: string;
  readonly description?: string;
  readonly title?: { readonly 'zh-CN': string; readonly en: string };
  readonly summary?: { readonly 'zh-CN': string; readonly en: string };
  readonly city: CityOptions;
  readonly start: number;
  readonly end: number;
  readonly weather?: WeatherOptions;
  readonly faults: readonly FaultSpec[];
  readonly expect: readonly Expectation[];
}

const check = Compile(ScenarioSchema);

export const toMs = (t: string | number): number => {
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) throw new RangeError(`bad time ${String(t)}`);
  return ms;
};

export function parseScenario(json: unknown): Scenario {
  if (!check.Check(json)) {
    const errs = [...check.Errors(json)].slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`);
    throw new Error(`invalid scenario: ${errs.join('; ')}`);
  }
  const s = json;
  const start = toMs(s.start);
  const end = toMs(s.end);
  if (end <= start) throw new Error(`scenario ${s.name}: end before start`);
  return {
    name: s.name,
    ...(s.description ? { description: s.description } : {}),
    ...(s.title ? { title: s.title } : {}),
    ...(s.summary ? { summary: s.summary } : {}),
    city: s.city,
    start,
    end,
    ...(s.weather ? { weather: s.weather } : {}),
    faults: s.faults as unknown as FaultSpec[],
    expect: s.expect,
  };
}

export function loadScenario(path: string): Scenario {
  return parseScenario(JSON.parse(readFileSync(path, 'utf8')));
}

/** One incident as the report shows it. */
export interface FoundIncident {
  readonly id: string;
  readonly kind: string;
  readonly subjectId: string;
  readonly cause: string;
  readonly exempt: boolean;
  readonly startTs: number;
  readonly openedAt: number;
  readonly resolvedAt?: number;
  readonly parentId?: string;
}

/** Fold a stream of incident events into one entry per incident (last state wins). */
export class IncidentCollector {
  readonly #byId = new Map<string, { inc: Incident; openedAt: number; resolvedAt?: number }>();
  events = 0;

  add(e: IncidentEvent): void {
    this.events++;
    const cur = this.#byId.get(e.incident.id);
    if (!cur) this.#byId.set(e.incident.id, { inc: e.incident, openedAt: e.at, ...(e.type === 'resolved' ? { resolvedAt: e.at } : {}) });
    else {
      cur.inc = e.incident;
      if (e.type === 'resolved') cur.resolvedAt = e.at;
    }
  }

  list(): FoundIncident[] {
    return [...this.#byId.values()]
      .map(({ inc, openedAt, resolvedAt }) => ({
        id: inc.id,
        kind: inc.kind,
        subjectId: inc.subjectId,
        cause: inc.cause,
        exempt: inc.exempt === true,
        startTs: inc.startTs,
        openedAt,
        ...(resolvedAt !== undefined ? { resolvedAt } : {}),
        ...(inc.parentId ? { parentId: inc.parentId } : {}),
      }))
      .sort((a, b) => a.openedAt - b.openedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

export interface ExpectationResult {
  readonly expectation: Expectation;
  readonly matched: readonly string[];
  readonly ok: boolean;
}

export interface MatchResult {
  readonly ok: boolean;
  readonly expected: readonly ExpectationResult[];
  readonly unexpected: readonly FoundIncident[];
}

const globRe = (g: string): RegExp =>
  new RegExp(
    `^${g
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

export function matchIncidents(expect: readonly Expectation[], found: readonly FoundIncident[]): MatchResult {
  const used = new Set<string>();
  const expected = expect.map((e) => {
    const re = globRe(e.subject);
    const from = toMs(e.from);
    const to = toMs(e.to);
    const hits = found.filter(
      (f) =>
        !used.has(f.id) &&
        f.kind === e.kind &&
        re.test(f.subjectId) &&
        (e.cause === undefined || f.cause === e.cause) &&
        (e.exempt === undefined || f.exempt === e.exempt) &&
        f.openedAt >= from &&
        f.openedAt <= to,
    );
    const min = e.minCount ?? e.count ?? 1;
    const max = e.maxCount ?? e.count ?? (e.minCount !== undefined ? Number.POSITIVE_INFINITY : 1);
    const take = hits.slice(0, Number.isFinite(max) ? max : hits.length);
    for (const h of take) used.add(h.id);
    return { expectation: e, matched: take.map((h) => h.id), ok: take.length >= min && hits.length <= max };
  });
  const unexpected = found.filter((f) => !used.has(f.id));
  return { ok: expected.every((x) => x.ok) && unexpected.length === 0, expected, unexpected };
}

/** Human-readable report lines. */
export function formatReport(name: string, m: MatchResult, found: readonly FoundIncident[]): string {
  const t = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z`;
  const ids = (xs: readonly string[]) => (xs.length > 4 ? `${xs.slice(0, 4).join(', ')} (+${xs.length - 4} more)` : xs.join(', '));
  const lines = [`scenario ${name}: ${m.ok ? 'PASS' : 'FAIL'} (${found.length} incidents)`];
  for (const x of m.expected) {
    const e = x.expectation;
    lines.push(
      `  ${x.ok ? '✓' : '✗'} expected ${e.kind} ${e.subject}${e.cause ? ` cause=${e.cause}` : ''} in [${t(toMs(e.from))}, ${t(toMs(e.to))}] → ${x.matched.length ? ids(x.matched) : 'not found'}`,
    );
  }
  for (const u of m.unexpected)
    lines.push(`  ✗ unexpected ${u.kind} ${u.subjectId} cause=${u.cause}${u.exempt ? ' exempt' : ''} opened ${t(u.openedAt)}`);
  return lines.join('\n');
}
