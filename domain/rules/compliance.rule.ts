/**
 * N2 compliance evidence and the N3 exemption: minutes each apartment spent below the
 * standard per local day (in season only), split at local midnight, and of those the minutes
 * on a day whose outdoor mean so far (the station's meter, else the city mean) is below the
 * design outdoor temperature. Owns the outdoor day means it needs for that.
 */
import { MINUTE_MS } from '../clock.ts';
import { dateToDayIndex, dayIndexToDate } from '../season.ts';
import type { RuleContext } from './engine.state.ts';

/** N2 evidence: minutes an apartment's value was below the standard on one local day. */
export interface DailyCompliance {
  readonly apartmentId: string;
  /** Local date, 'YYYY-MM-DD'. */
  readonly date: string;
  /** Minutes below the standard (in season, with data). */
  readonly minutesBelow: number;
  /** N3: of those, minutes on a day colder than the design outdoor temperature (exempt). */
  readonly minutesExempt: number;
}

/** Add [from, to) to the apartment's per-day below-standard minutes, split at local midnight (N2, N3). */
export function accumulate(c: RuleContext, a: number, from: number, to: number): void {
  const season = c.season;
  const A = c.apartments;
  let m = A.compliance[a];
  while (from < to) {
    const day = season.dayIndex(from);
    const dayEnd = (day + 1) * 86_400_000 - c.policy.utcOffsetMinutes * MINUTE_MS;
    const end = to < dayEnd ? to : dayEnd;
    if (season.inSeasonDay(day)) {
      if (!m) m = A.compliance[a] = new Map();
      let v = m.get(day);
      if (!v) m.set(day, (v = [0, 0]));
      v[0]! += end - from;
      if (exemptDay(c, c.ix.aptStation[a]!, day)) v[1]! += end - from;
    }
    from = end;
  }
}

/** N3: a station meter's outdoor temperature goes into its own and the city's day mean. */
export function recordOutdoor(c: RuleContext, st: number, ts: number, outdoorC: number): void {
  const S = c.stations;
  const day = c.season.dayIndex(ts);
  if (S.outdoorDay[st] !== day) {
    S.outdoorDay[st] = day;
    S.outdoorSum[st] = 0;
    S.outdoorCount[st] = 0;
  }
  S.outdoorSum[st]! += outdoorC;
  S.outdoorCount[st]!++;
  if (c.outdoorDay !== day) {
    c.outdoorDay = day;
    c.outdoorSum = 0;
    c.outdoorCount = 0;
  }
  c.outdoorSum += outdoorC;
  c.outdoorCount++;
}

/** N3 outdoor day mean so far for the station (falls back to the city-wide mean). */
export function outdoorDayMean(c: RuleContext, st: number, day: number): number {
  const S = c.stations;
  if (st >= 0 && S.outdoorDay[st] === day && S.outdoorCount[st]! > 0) return S.outdoorSum[st]! / S.outdoorCount[st]!;
  if (c.outdoorDay === day && c.outdoorCount > 0) return c.outdoorSum / c.outdoorCount;
  return Number.NaN;
}

export function exemptDay(c: RuleContext, st: number, day: number): boolean {
  return outdoorDayMean(c, st, day) < c.policy.comfort.designOutdoorC; // N3
}

/** Minutes below the standard per apartment per local day, apartments in topology order, days ascending. */
export function dailyCompliance(c: RuleContext, filter?: { apartmentId?: string }): DailyCompliance[] {
  const res: DailyCompliance[] = [];
  const ix = c.ix;
  const one = filter?.apartmentId !== undefined ? ix.aptOf.get(filter.apartmentId) : undefined;
  if (filter?.apartmentId !== undefined && one === undefined) return res;
  const from = one ?? 0;
  const to = one !== undefined ? one + 1 : ix.aptIds.length;
  for (let a = from; a < to; a++) {
    const m = c.apartments.compliance[a];
    if (!m) continue;
    for (const day of [...m.keys()].sort((x, y) => x - y)) {
      const v = m.get(day)!;
      res.push({
        apartmentId: ix.aptIds[a]!,
        date: dayIndexToDate(day),
        minutesBelow: Math.round((v[0]! / MINUTE_MS) * 100) / 100,
        minutesExempt: Math.round((v[1]! / MINUTE_MS) * 100) / 100,
      });
    }
  }
  return res;
}

/** Forget compliance days before a local date ('YYYY-MM-DD'); returns the rows dropped. */
export function dropComplianceBefore(c: RuleContext, date: string): number {
  const limit = dateToDayIndex(date);
  if (Number.isNaN(limit)) throw new RangeError(`not a date: ${date}`);
  let dropped = 0;
  const all = c.apartments.compliance;
  all.forEach((m, a) => {
    if (!m) return;
    for (const day of [...m.keys()])
      if (day < limit) {
        m.delete(day);
        dropped++;
      }
    if (m.size === 0) all[a] = undefined;
  });
  return dropped;
}
