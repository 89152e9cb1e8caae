/**
 * N2 cold apartment, a Schmitt trigger on the N32 value: below `standardC` for
 * `coldOpenAfterMin` opens `apartment_cold`; it resolves after `resolveAfterMin` at
 * ≥ `resolveAtC`. The candidate has hysteresis too — a value that pops above the standard
 * but stays under `resolveAtC` does not restart the clock — so a value flapping around the
 * standard opens one incident, not none or many. N1 gates the opening; N3 makes the
 * shortfall exempt (minor). Also feeds the N2 compliance minutes and the neighbour counts.
 */
import { accumulate, awaitDayVerdict, exemptDay } from './compliance.rule.ts';
import { r2, type RuleContext } from './engine.state.ts';
import { classify, reconcileStation } from './grouping.rule.ts';
import { apartmentValue } from './sensor.rule.ts';

/**
 * Re-evaluate apartment `a` at `ts` after one of its counted sensors reported. N2 is checked
 * per room: the trigger runs on the coldest counted room (`m`), while the N32 area-weighted
 * mean (`v`) stays the value reported on the incident and to the neighbours' evidence.
 */
export function evalApartment(c: RuleContext, a: number, ts: number): void {
  const { value: v, coldestC: m, coldestTs } = apartmentValue(c, a, ts);
  const A = c.apartments;
  const k = c.k;
  const ix = c.ix;

  // N2 evidence: the previous coldest room held from the previous evaluation until now.
  const prevTs = A.lastEval[a]!;
  const prevM = A.lastColdest[a]!;
  if (prevM < k.standardC && ts > prevTs) accumulate(c, a, prevTs, Math.min(ts, prevTs + ix.aptStaleMs[a]!));
  A.lastEval[a] = ts;
  A.lastValue[a] = v;
  A.lastColdest[a] = m;
  // Neighbour evidence (§E.3/§E.4) counts apartments below the standard now; no value = not below.
  const below = m < k.standardC ? 1 : 0;
  if (below !== A.belowNow[a]) {
    A.belowNow[a] = below;
    const b = ix.aptBuilding[a]!;
    if (b >= 0) c.buildings.belowNow[b]! += below ? 1 : -1;
  }
  if (Number.isNaN(m)) return;

  if (A.incident[a]) {
    // Resolved only once every counted room is back (N2 per room).
    if (m >= k.resolveAtC) {
      let rec = A.recoverSince[a]!;
      if (Number.isNaN(rec)) rec = A.recoverSince[a] = ts;
      if (ts - rec >= k.resolveAfterMs) resolveCold(c, a, rec, ts);
    } else A.recoverSince[a] = Number.NaN;
    return;
  }
  let since = A.belowSince[a]!;
  if (below) {
    if (Number.isNaN(since)) {
      const hint = A.hint[a]!;
      since = hint <= ts ? hint : ts;
      A.belowSince[a] = since;
    }
    A.hint[a] = Number.NaN;
    A.aboveStdSince[a] = Number.NaN;
    // The shortfall is as long as the cold room's own latest reading shows, not the evaluation time (a warm room's report must not age a cold room's old value).
    if (Math.min(ts, coldestTs) - since >= k.openAfterMs && c.season.inSeason(ts)) openCold(c, a, since, ts, v, m); // N1
    return;
  }
  A.hint[a] = Number.NaN;
  if (Number.isNaN(since)) return;
  // Hysteresis on the way in too: only a clear recovery cancels the candidate.
  if (m >= k.resolveAtC) {
    A.belowSince[a] = Number.NaN;
    return;
  }
  let above = A.aboveStdSince[a]!;
  if (Number.isNaN(above)) above = A.aboveStdSince[a] = ts;
  if (ts - above >= k.resolveAfterMs) {
    A.belowSince[a] = Number.NaN;
    A.aboveStdSince[a] = Number.NaN;
  }
}

function openCold(c: RuleContext, a: number, startTs: number, at: number, v: number, coldestC: number): void {
  const ix = c.ix;
  const A = c.apartments;
  const reg = c.incidents;
  const st = ix.aptStation[a]!;
  const exempt = exemptDay(c, st, c.season.dayIndex(at)); // N3
  const inc = reg.make({
    kind: 'apartment_cold',
    subjectType: 'apartment',
    subjectId: ix.aptIds[a]!,
    startTs,
    severity: exempt ? 'minor' : 'major',
    cause: 'unknown',
    where: c.whereApartment(a),
  });
  if (exempt) inc.exempt = true;
  // Registered now, announced once classify has decided its cause and parent.
  reg.register(inc);
  A.incident[a] = inc;
  A.belowSince[a] = Number.NaN;
  A.aboveStdSince[a] = Number.NaN;
  A.recoverSince[a] = Number.NaN;
  classify(c, a, inc, at, v, true);
  inc.evidence.coldestRoomC = r2(coldestC); // N2: the room that is short; apartmentC is the N32 value
  reg.emit('opened', at, inc);
  if (st >= 0) reconcileStation(c, st, at);
}

function resolveCold(c: RuleContext, a: number, endTs: number, at: number): void {
  const A = c.apartments;
  const inc = A.incident[a]!;
  A.incident[a] = undefined;
  A.recoverSince[a] = Number.NaN;
  inc.evidence.resolvedAtC = r2(A.lastValue[a]!);
  c.incidents.resolve(inc, endTs, at);
  c.incidents.keepAsResolvedChild(inc);
  const st = c.ix.aptStation[a]!;
  awaitDayVerdict(c, st, inc); // N3: its last day's full-day mean is still to come
  if (st >= 0) reconcileStation(c, st, at);
}
