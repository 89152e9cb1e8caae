/**
 * Station meters (heating-norms §E.2): the latest values of each station, `station_silent`
 * when its meter stops reporting (and the gaps inside a backlog), and `station_fault` once a
 * condition of station.rule.ts (pump stopped, below the heating curve, low primary ΔT, leak)
 * has held for `faultConfirmMin`. A change of the below-curve fault re-decides the heat
 * source (source.rule.ts); a fault opening or clearing re-decides the station's groups.
 */
import type { Incident } from '../incident.schema.ts';
import type { Reading } from '../reading.ts';
import { STATION_FIELDS } from '../telemetry.schema.ts';
import { recordOutdoor } from './compliance.rule.ts';
import { NFAULT, r2, type RuleContext } from './engine.state.ts';
import { reconcileStation } from './grouping.rule.ts';
import { reconcileSource } from './source.rule.ts';
import {
  FAULT_CURVE,
  FAULT_LEAK,
  FAULT_PUMP,
  FIELD_COUNT,
  STATION_SLOT,
  faultNames,
  heatingCurveSetpointC,
  stationFaultBits,
} from './station.rule.ts';

export function ingestMeter(c: RuleContext, mi: number, r: Reading): void {
  const M = c.meters;
  const ts = r.ts;
  const last = M.lastTs[mi]!;
  if (ts <= last) return;
  const ix = c.ix;
  const st = ix.meterStation[mi]!;
  const silentMs = c.k.silentMs;
  if (M.silent[mi]) {
    M.silent[mi] = 0;
    c.incidents.resolveOpen('station_silent', ix.stationIds[st]!, ts);
  } else if (ts - last > silentMs) {
    // A gap inside a backlog: live, the station would have been silent until now.
    const inc = silentIncident(c, mi, last + silentMs);
    if (inc) c.incidents.resolve(inc, ts, ts);
  }
  M.lastTs[mi] = ts;
  const heard = c.now - ts > silentMs ? c.now : ts;
  M.heard[mi] = heard;
  const dl = c.deadline(ts, heard, silentMs);
  if (dl < c.nextDeadline) c.nextDeadline = dl;
  const f = r.fields;
  const vals = c.stations.values;
  const base = st * FIELD_COUNT;
  for (let k = 0; k < FIELD_COUNT; k++) {
    const v = f[STATION_FIELDS[k]!];
    if (v !== undefined) vals[base + k] = v;
  }
  if (f.outdoorTemp !== undefined) recordOutdoor(c, st, ts, f.outdoorTemp); // N3
  stationFaults(c, st, ts);
}

/** §E.2: confirm or clear the station's fault conditions after a meter reading at `ts`. */
function stationFaults(c: RuleContext, st: number, ts: number): void {
  const ix = c.ix;
  const S = c.stations;
  const reg = c.incidents;
  const bits = stationFaultBits(S.values, st * FIELD_COUNT, c.policy, ix.stationFloor[st] ? 'floor' : 'radiator');
  const fb = st * NFAULT;
  let confirmed = 0;
  let startTs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < NFAULT; i++) {
    if (bits & (1 << i)) {
      let since = S.faultSince[fb + i]!;
      if (Number.isNaN(since)) since = S.faultSince[fb + i] = ts;
      if (ts - since >= c.k.confirmMs) {
        confirmed |= 1 << i;
        if (since < startTs) startTs = since;
      }
    } else S.faultSince[fb + i] = Number.NaN;
  }
  const prev = S.confirmed[st]!;
  let inc = S.faultInc[st];
  let stationChanged = false;
  const severity = confirmed & (FAULT_PUMP | FAULT_LEAK) ? 'critical' : 'major';
  if (confirmed && !inc) {
    if (c.season.inSeason(ts)) {
      const stId = ix.stationIds[st]!;
      inc = S.faultInc[st] = reg.makeGroup({
        kind: 'station_fault',
        subjectType: 'station',
        subjectId: stId,
        startTs,
        severity,
        cause: 'station',
        where: { stationId: stId },
      });
      stationEvidence(c, inc, st, confirmed);
      reg.register(inc);
      reg.emit('opened', ts, inc);
      stationChanged = true;
    } else confirmed = 0;
  } else if (confirmed && inc && confirmed !== prev) {
    inc.severity = severity;
    stationEvidence(c, inc, st, confirmed);
    reg.emit('updated', ts, inc);
  } else if (!confirmed && inc) {
    stationEvidence(c, inc, st, prev);
    inc.evidence.cleared = true;
    S.faultInc[st] = undefined;
    reg.resolve(inc, ts, ts);
    stationChanged = true;
  }
  S.confirmed[st] = confirmed;
  if ((prev ^ confirmed) & FAULT_CURVE) {
    const src = ix.stationSource[st]!;
    if (reconcileSource(c, src, ts)) for (const s2 of ix.sourceStations[src]!) reconcileStation(c, s2, ts);
  }
  if (stationChanged) reconcileStation(c, st, ts);
}

function stationEvidence(c: RuleContext, inc: Incident, st: number, bits: number): void {
  const v = c.stations.values;
  const base = st * FIELD_COUNT;
  const S = STATION_SLOT;
  const outdoor = v[base + S.outdoorTemp]!;
  const system = c.ix.stationFloor[st] ? 'floor' : 'radiator';
  const ev = inc.evidence;
  ev.faults = faultNames(bits);
  ev.pumpHz = r2(v[base + S.pumpHz]!);
  ev.secondarySupplyC = r2(v[base + S.secondarySupplyTemp]!);
  ev.curveSetpointC = Number.isNaN(outdoor) ? null : r2(heatingCurveSetpointC(outdoor, c.policy, system));
  ev.outdoorC = r2(outdoor);
  ev.primaryDeltaC = r2(v[base + S.primarySupplyTemp]! - v[base + S.primaryReturnTemp]!);
  ev.valvePct = r2(v[base + S.valvePct]!);
  ev.secondarySupplyPressureMPa = r2(v[base + S.secondarySupplyPressure]!);
  ev.makeupFlowM3h = r2(v[base + S.makeupFlow]!);
}

/** Open station_silent for meter m at `at` (in season, one per station); undefined when none opened. */
function silentIncident(c: RuleContext, m: number, at: number): Incident | undefined {
  const ix = c.ix;
  const last = c.meters.lastTs[m]!;
  const stId = ix.stationIds[ix.meterStation[m]!]!;
  if (!c.season.inSeason(at) || c.incidents.has('station_silent', stId)) return undefined;
  return c.incidents.open({
    kind: 'station_silent',
    subjectType: 'station',
    subjectId: stId,
    startTs: last,
    at,
    severity: 'major',
    cause: 'unknown',
    evidence: { lastSeenTs: last, meterId: ix.meterIds[m]!, silentAfterMin: c.policy.station.silentAfterMin },
    where: { stationId: stId },
  });
}

/** Silent meters whose deadline is ≤ ts; returns the earliest deadline still ahead. */
export function meterTimeouts(c: RuleContext, ts: number): number {
  const M = c.meters;
  let next = Number.POSITIVE_INFINITY;
  for (let m = 0; m < c.ix.meterIds.length; m++) {
    const last = M.lastTs[m]!;
    if (Number.isNaN(last) || M.silent[m]) continue;
    const dl = c.deadline(last, M.heard[m]!, c.k.silentMs);
    if (dl > ts) {
      if (dl < next) next = dl;
      continue;
    }
    M.silent[m] = 1;
    silentIncident(c, m, dl);
  }
  return next;
}
