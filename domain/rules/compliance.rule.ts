/**
 * N2 compliance evidence and the N3 exemption: minutes each apartment spent below the
 * standard per local day (in season only), split at local midnight, and of those the minutes
 * on a day whose outdoor mean (the station's meter, else the city mean) is below the design
 * outdoor temperature. N3 is about the whole day: while the day runs its mean so far is a
 * provisional answer; when the day ends (the first outdoor reading of the next day) the
 * full-day mean decides — the day's exempt minutes are re-split and the open shortfalls of
 * that day revisited (a −12 °C night followed by a mild day is not exempt). Owns the outdoor
 * day means it needs for that.
 */
import { MINUTE_MS } from '../clock.ts';
import { dateToDayIndex, dayIndexToDate } from '../season.ts';
import type { Incident } from '../incident.schema.ts';
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
    const ended = S.outdoorDay[st]!;
    if (!Number.isNaN(ended) && day > ended && S.outdoorCount[st]! > 0) {
      S.prevOutdoorDay[st] = ended;
      S.prevOutdoorMean[st] = S.outdoorSum[st]! / S.outdoorCount[st]!;
    }
    S.outdoorDay[st] = day;
    S.outdoorSum[st] = 0;
    S.outdoorCount[st] = 0;
    if (S.prevOutdoorDay[st] === ended) dayEnded(c, st, ended, ts);
  }
  S.outdoorSum[st]! += outdoorC;
  S.outdoorCount[st]!++;
  if (c.outdoorDay !== day) {
    if (!Number.isNaN(c.outdoorDay) && day > c.outdoorDay && c.outdoorCount > 0) {
      c.prevOutdoorDay = c.outdoorDay;
      c.prevOutdoorMean = c.outdoorSum / c.outdoorCount;
    }
    c.outdoorDay = day;
    c.outdoorSum = 0;
    c.outdoorCount = 0;
  }
  c.outdoorSum += outdoorC;
  c.outdoorCount++;
}

/**
 * N3 outdoor mean of a local day for the station (falls back to the city-wide mean): the
 * full-day mean once the day has ended, the mean so far while it runs.
 */
export function outdoorDayMean(c: RuleContext, st: number, day: number): number {
  const S = c.stations;
  if (st >= 0 && S.prevOutdoorDay[st] === day) return S.prevOutdoorMean[st]!;
  if (st >= 0 && S.outdoorDay[st] === day && S.outdoorCount[st]! > 0) return S.outdoorSum[st]! / S.outdoorCount[st]!;
  if (c.prevOutdoorDay === day) return c.prevOutdoorMean;
  if (c.outdoorDay === day && c.outdoorCount > 0) return c.outdoorSum / c.outdoorCount;
  return Number.NaN;
}

/**
 * N3 at the end of a station's local day, on its full-day mean: the apartments' minutes below
 * the standard that day are re-split (all exempt or none), and each apartment_cold of that day
 * is revisited — exempt only if every day of its shortfall was colder than the design
 * temperature. That holds for the open ones and for those that resolved before the day ended
 * (their record feeds the N3-excused KPI). A change goes out as an `updated` event (the API
 * then opens the order an open, no longer exempt shortfall did not get).
 */
function dayEnded(c: RuleContext, st: number, day: number, at: number): void {
  const ix = c.ix;
  const A = c.apartments;
  const exempt = exemptDay(c, st, day);
  for (let a = 0; a < ix.aptIds.length; a++) {
    if (ix.aptStation[a] !== st) continue;
    const v = A.compliance[a]?.get(day);
    if (v) v[1] = exempt ? v[0]! : 0;
    const inc = A.incident[a];
    if (inc) settleDay(c, st, inc, day, exempt, at);
  }
  const settling = c.stations.settling[st];
  if (!settling) return;
  const later: Incident[] = [];
  for (const inc of settling) {
    settleDay(c, st, inc, day, exempt, at);
    if (c.season.dayIndex(inc.endTs ?? inc.startTs) > day) later.push(inc);
  }
  c.stations.settling[st] = later.length > 0 ? later : undefined;
}

/** N3 verdict of one shortfall after `day` ended: exempt while every day of it so far was. */
function settleDay(c: RuleContext, st: number, inc: Incident, day: number, exempt: boolean, at: number): void {
  const startDay = c.season.dayIndex(inc.startTs);
  if (startDay > day) return;
  const now = startDay === day ? exempt : inc.exempt === true && exempt;
  if (now === (inc.exempt === true)) return;
  if (now) inc.exempt = true;
  else delete inc.exempt;
  inc.severity = now ? 'minor' : 'major';
  inc.evidence.outdoorDayMeanC = Math.round(outdoorDayMean(c, st, day) * 100) / 100;
  c.incidents.emit('updated', at, inc);
}

/** N3: a shortfall that ended before its day did waits in `settling` for that day's verdict. */
export function awaitDayVerdict(c: RuleContext, st: number, inc: Incident): void {
  // Only where the station's day does end (its meter reports outdoor temperature), so the list drains.
  if (st < 0 || inc.endTs === undefined || Number.isNaN(c.stations.outdoorDay[st]!)) return;
  const list = (c.stations.settling[st] ??= []);
  list.push(inc);
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
