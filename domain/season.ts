/**
 * N1: the heating season and local-day arithmetic. The city's calendar is read at a fixed UTC
 * offset (policy.utcOffsetMinutes; China has no DST), so no Intl lookups happen on the hot path.
 *
 * A "day index" is the number of whole local days since 1970-01-01 (local), which makes a day
 * a cheap integer key for per-day accumulators (N2 compliance minutes, N3 outdoor day means).
 */
import { DAY_MS, MINUTE_MS } from './clock.ts';
import type { HeatingPolicy, MonthDay } from './policy.ts';

/** Local day index of an instant (epoch ms, UTC) in the policy's city. */
export function localDayIndex(ts: number, policy: Pick<HeatingPolicy, 'utcOffsetMinutes'>): number {
  return Math.floor((ts + policy.utcOffsetMinutes * MINUTE_MS) / DAY_MS);
}

/** UTC instant (epoch ms) at which a local day begins. */
export function localDayStart(dayIndex: number, policy: Pick<HeatingPolicy, 'utcOffsetMinutes'>): number {
  return dayIndex * DAY_MS - policy.utcOffsetMinutes * MINUTE_MS;
}

/** 'YYYY-MM-DD' of a day index (the index is already local, so UTC formatting is exact). */
export function dayIndexToDate(dayIndex: number): string {
  return new Date(dayIndex * DAY_MS).toISOString().slice(0, 10);
}

/** Day index of a local 'YYYY-MM-DD' date; NaN when malformed. */
export function dateToDayIndex(date: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return Number.NaN;
  const ms = Date.parse(`${date}T00:00:00Z`);
  return Number.isFinite(ms) ? Math.round(ms / DAY_MS) : Number.NaN;
}

/** Local calendar date ('YYYY-MM-DD') of an instant. */
export function localDate(ts: number, policy: Pick<HeatingPolicy, 'utcOffsetMinutes'>): string {
  return dayIndexToDate(localDayIndex(ts, policy));
}

const md = (m: MonthDay): number => m.month * 100 + m.day;

/** N1: is this local day inside the season (regular window or a one-off extension)? */
export function dayInSeason(dayIndex: number, policy: Pick<HeatingPolicy, 'season'>): boolean {
  const d = new Date(dayIndex * DAY_MS);
  const today = (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
  const start = md(policy.season.start);
  const end = md(policy.season.end);
  // N1: the season usually wraps the new year (15 Nov – 20 Mar); both ends inclusive.
  const regular = start <= end ? today >= start && today <= end : today >= start || today <= end;
  if (regular) return true;
  if (policy.season.extensions.length === 0) return false;
  const iso = dayIndexToDate(dayIndex);
  // N1: one-off decrees (e.g. a cold snap starts heating on 8 Nov), ISO local dates, inclusive.
  return policy.season.extensions.some((e) => iso >= e.from && iso <= e.to);
}

/** N1: is this instant inside the heating season of the policy's city? */
export function inSeason(ts: number, policy: Pick<HeatingPolicy, 'season' | 'utcOffsetMinutes'>): boolean {
  return dayInSeason(localDayIndex(ts, policy), policy);
}

/**
 * Memoised N1 lookups for hot loops: a replay asks the same few hundred days millions of
 * times, so each day is computed once.
 */
export class SeasonCalendar {
  readonly #policy: Pick<HeatingPolicy, 'season' | 'utcOffsetMinutes'>;
  readonly #cache = new Map<number, boolean>();
  #lastDay = Number.NaN;
  #lastValue = false;

  constructor(policy: Pick<HeatingPolicy, 'season' | 'utcOffsetMinutes'>) {
    this.#policy = policy;
  }

  dayIndex(ts: number): number {
    return localDayIndex(ts, this.#policy);
  }

  inSeasonDay(dayIndex: number): boolean {
    if (dayIndex === this.#lastDay) return this.#lastValue;
    let v = this.#cache.get(dayIndex);
    if (v === undefined) {
      v = dayInSeason(dayIndex, this.#policy);
      this.#cache.set(dayIndex, v);
    }
    this.#lastDay = dayIndex;
    this.#lastValue = v;
    return v;
  }

  inSeason(ts: number): boolean {
    return this.inSeasonDay(localDayIndex(ts, this.#policy));
  }
}
