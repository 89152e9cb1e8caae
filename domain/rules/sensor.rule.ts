/**
 * Room sensors (heating-norms §E.5, N32): what one sensor reading does to its device's state
 * — offline time-outs (and the gaps inside a backlog), low battery, stuck and implausible
 * values, the open-window pattern — and the N32 apartment value those sensors give, with
 * the sensors §E.5 says nothing about left out. Device incidents are `not_a_fault`; whether
 * an apartment is cold is cold.rule.ts's question.
 */
import { MINUTE_MS } from '../clock.ts';
import type { Incident, IncidentKind, Severity } from '../incident.schema.ts';
import type { Reading } from '../reading.ts';
import { F_IMPLAUSIBLE, F_LOWBAT, F_OFFLINE, F_SEEN, F_STUCK, F_WINDOW, RING, r2, type RuleContext } from './engine.state.ts';

/**
 * Feed one reading of sensor `s`. Returns true when the apartment value should be
 * re-evaluated (a counted room's sensor reported a temperature).
 */
export function ingestSensor(c: RuleContext, s: number, r: Reading): boolean {
  const S = c.sensors;
  const ts = r.ts;
  const last = S.lastTs[s]!;
  // Per-device event-time order: a redelivered or older reading changes nothing.
  if (ts <= last) return false;
  const ix = c.ix;
  const p = c.policy;
  const reg = c.incidents;
  const id = ix.sensorIds[s]!;
  let flags = S.flags[s]!;
  const inSeason = c.season.inSeason(ts); // N1
  const offMs = ix.sensorOfflineMs[s]!;
  if (flags & F_OFFLINE) {
    // Its own readings close its time-out, late ones too (a gateway's backlog).
    flags &= ~F_OFFLINE;
    reg.resolveOpen('sensor_offline', id, ts);
  } else if (flags & F_SEEN && ts - last > offMs) {
    // A gap in its own data that no watermark reached (the data came as a backlog): live,
    // it would have been offline from last + threshold until this reading, so say so.
    const dl = last + offMs;
    if (c.season.inSeason(dl)) reg.resolve(offlineIncident(c, s, dl), ts, ts);
  }
  S.lastTs[s] = ts;
  // A reading far behind engine time is a backlog being caught up: the device was heard from
  // now, so the rest of its backlog gets a grace before its own data times it out.
  const heard = c.now - ts > offMs ? c.now : ts;
  S.heard[s] = heard;
  const dl = c.deadline(ts, heard, offMs);
  if (dl < c.nextDeadline) c.nextDeadline = dl;
  flags |= F_SEEN;

  const f = r.fields;
  const bat = f.bat;
  if (bat !== undefined) {
    if (bat < p.sensors.lowBatteryV && !(flags & F_LOWBAT) && inSeason) {
      flags |= F_LOWBAT;
      openDevice(c, s, 'sensor_low_battery', ts, 'info', { batteryV: r2(bat), lowBatteryV: p.sensors.lowBatteryV });
    } else if (bat >= p.sensors.lowBatteryClearV && flags & F_LOWBAT) {
      flags &= ~F_LOWBAT;
      reg.resolveOpen('sensor_low_battery', id, ts);
    }
  }

  const temp = f.temp;
  if (temp !== undefined && Number.isFinite(temp)) {
    // Stuck: the identical value for stuckAfterHours (§E.5).
    if (temp === S.stuckValue[s]) {
      if (!(flags & F_STUCK) && inSeason && ts - S.stuckSince[s]! >= c.k.stuckMs) {
        flags |= F_STUCK;
        openDevice(c, s, 'sensor_stuck', S.stuckSince[s]!, 'minor', { valueC: r2(temp), stuckAfterHours: p.sensors.stuckAfterHours });
      }
    } else {
      S.stuckValue[s] = temp;
      S.stuckSince[s] = ts;
      if (flags & F_STUCK) {
        flags &= ~F_STUCK;
        reg.resolveOpen('sensor_stuck', id, ts);
      }
    }
    // Implausibly warm for a heated room: next to a heat source or in the sun (§E.5).
    if (temp > p.sensors.implausibleHighC) {
      if (!(flags & F_IMPLAUSIBLE) && inSeason) {
        flags |= F_IMPLAUSIBLE;
        openDevice(c, s, 'sensor_implausible', ts, 'minor', { valueC: r2(temp), implausibleHighC: p.sensors.implausibleHighC });
      }
    } else if (flags & F_IMPLAUSIBLE) {
      flags &= ~F_IMPLAUSIBLE;
      reg.resolveOpen('sensor_implausible', id, ts);
    }
    flags = windowPattern(c, s, ts, temp, flags);
    const base = s * RING;
    const pos = S.ringPos[s]!;
    S.ringTs[base + pos] = ts;
    S.ringTemp[base + pos] = temp;
    S.ringPos[s] = pos + 1 === RING ? 0 : pos + 1;
    S.temp[s] = temp;
  }
  S.flags[s] = flags;
  return ix.sensorCounted[s] !== 0 && temp !== undefined;
}

/**
 * Window-open pattern (§E.5): a sharp drop against the recent maximum holds the room at its
 * pre-drop value until it recovers or the recovery window runs out. Returns the new flags.
 */
function windowPattern(c: RuleContext, s: number, ts: number, temp: number, flags: number): number {
  const S = c.sensors;
  const p = c.policy.sensors;
  if (flags & F_WINDOW) {
    if (temp >= S.windowRef[s]! - p.windowRecoverToWithinC) return flags & ~F_WINDOW;
    if (ts - S.windowSince[s]! > c.k.recoverWithinMs) {
      // Not a window after all: the shortfall counts from when the drop began.
      const a = c.ix.sensorApt[s]!;
      const A = c.apartments;
      if (!(A.hint[a]! <= S.windowSince[s]!)) A.hint[a] = S.windowSince[s]!;
      return flags & ~F_WINDOW;
    }
    return flags;
  }
  const base = s * RING;
  const lo = ts - c.k.dropWithinMs;
  let max = Number.NEGATIVE_INFINITY;
  let maxTs = Number.NaN;
  for (let k = base; k < base + RING; k++) {
    const t = S.ringTs[k]!;
    const v = S.ringTemp[k]!;
    // The latest of equal maxima: the drop began after it.
    if (t >= lo && (v > max || (v === max && t > maxTs))) {
      max = v;
      maxTs = t;
    }
  }
  if (max - temp < p.windowDropC) return flags;
  S.windowRef[s] = max;
  S.windowSince[s] = maxTs;
  return flags | F_WINDOW;
}

function openDevice(
  c: RuleContext,
  s: number,
  kind: IncidentKind,
  startTs: number,
  severity: Severity,
  evidence: Incident['evidence'],
): void {
  const ix = c.ix;
  c.incidents.open({
    kind,
    subjectType: 'device',
    subjectId: ix.sensorIds[s]!,
    startTs,
    at: c.sensors.lastTs[s]!,
    severity,
    cause: 'not_a_fault',
    evidence,
    where: c.whereApartment(ix.sensorApt[s]!),
  });
}

/** §E.5: open sensor_offline for sensor s, detected at `at` (its deadline). */
export function offlineIncident(c: RuleContext, s: number, at: number): Incident {
  const ix = c.ix;
  const last = c.sensors.lastTs[s]!;
  return c.incidents.open({
    kind: 'sensor_offline',
    subjectType: 'device',
    subjectId: ix.sensorIds[s]!,
    startTs: last,
    at,
    severity: 'minor',
    cause: 'not_a_fault',
    evidence: { lastSeenTs: last, offlineAfterMin: ix.sensorOfflineMs[s]! / MINUTE_MS },
    where: c.whereApartment(ix.sensorApt[s]!),
  });
}

/** Offline sensors whose deadline is ≤ ts; returns the earliest deadline still ahead. */
export function sensorTimeouts(c: RuleContext, ts: number): number {
  const ix = c.ix;
  const S = c.sensors;
  let next = Number.POSITIVE_INFINITY;
  for (let s = 0; s < ix.sensorIds.length; s++) {
    const fl = S.flags[s]!;
    if (!(fl & F_SEEN) || fl & F_OFFLINE) continue;
    const dl = c.deadline(S.lastTs[s]!, S.heard[s]!, ix.sensorOfflineMs[s]!);
    if (dl > ts) {
      if (dl < next) next = dl;
      continue;
    }
    S.flags[s] = fl | F_OFFLINE;
    if (c.season.inSeason(dl)) offlineIncident(c, s, dl);
  }
  return next;
}

/** N32: area-weighted mean of counted rooms with a valid value; NaN when none. */
/**
 * N32: the apartment value is the area-weighted mean of its counted rooms with a valid value
 * (the reported value); `coldestC` is the coldest of those rooms — N2 holds per 居室 (each
 * bedroom and the living room), so a cold bedroom is a shortfall even behind a warm living room.
 */
export function apartmentValue(
  c: RuleContext,
  a: number,
  ts: number,
): { value: number; coldestC: number; coldestTs: number; measured: number; areaM2: number } {
  const ix = c.ix;
  const S = c.sensors;
  const rooms = ix.aptMeasuredRooms[a]!;
  let area = 0;
  let sum = 0;
  let measured = 0;
  let coldest = Number.POSITIVE_INFINITY;
  let coldestTs = Number.NaN;
  for (let i = 0; i < rooms.length; i++) {
    const room = rooms[i]!;
    const sensors = ix.roomSensors[room]!;
    let rs = 0;
    let rn = 0;
    let rts = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < sensors.length; j++) {
      const s = sensors[j]!;
      const fl = S.flags[s]!;
      // Offline (stale), stuck and implausible sensors say nothing about the room.
      if (fl & (F_STUCK | F_IMPLAUSIBLE) || !(ts - S.lastTs[s]! <= ix.sensorOfflineMs[s]!)) continue;
      rs += fl & F_WINDOW ? S.windowRef[s]! : S.temp[s]!;
      rn++;
      if (S.lastTs[s]! > rts) rts = S.lastTs[s]!;
    }
    if (rn === 0) continue;
    const ar = ix.roomArea[room]!;
    area += ar;
    sum += (ar * rs) / rn; // N32: room value = mean of its points
    if (rs / rn < coldest) {
      coldest = rs / rn; // N2: each room on its own
      coldestTs = rts;
    }
    measured++;
  }
  return { value: measured ? sum / area : Number.NaN, coldestC: measured ? coldest : Number.NaN, coldestTs, measured, areaM2: area };
}
