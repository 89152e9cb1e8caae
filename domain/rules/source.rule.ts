/**
 * Heat source and primary branch (heating-norms §E.1): when at least `sourceStationShare` of
 * a source's (or a branch's) metered stations run below their heating curve at once — and at
 * least `minSourceStations` of them — one `source_cold` incident lists them as children; a
 * source incident swallows its branches'. Runs only when a station's below-curve fault
 * changes (meter.rule.ts), never per reading.
 */
import type { Incident } from '../incident.schema.ts';
import { r2, type RuleContext } from './engine.state.ts';
import { FAULT_CURVE, FIELD_COUNT, STATION_SLOT } from './station.rule.ts';

/** The open heat-source (or branch) incident that lists this station, if any (§E.1). */
export function upstreamFor(c: RuleContext, st: number): Incident | undefined {
  if (st < 0) return undefined;
  const U = c.upstream;
  const id = c.ix.stationIds[st]!;
  const src = U.incident[c.ix.stationSource[st]!];
  if (src?.children!.includes(id)) return src;
  const bg = U.stationBranch[st]!;
  const br = bg >= 0 ? U.incident[bg] : undefined;
  return br?.children!.includes(id) ? br : undefined;
}

/**
 * Re-decide the source's incident and its branches'. Returns true when any changed: the
 * caller then re-decides the source's stations (their cause may now be the heat source).
 */
export function reconcileSource(c: RuleContext, src: number, at: number): boolean {
  const U = c.upstream;
  let changed = reconcileUpstream(c, src, at, undefined);
  const srcInc = U.incident[src];
  for (let g = c.ix.sourceIds.length; g < U.ids.length; g++) if (U.source[g] === src && reconcileUpstream(c, g, at, srcInc)) changed = true;
  return changed;
}

function reconcileUpstream(c: RuleContext, g: number, at: number, swallowedBy: Incident | undefined): boolean {
  const ix = c.ix;
  const U = c.upstream;
  const reg = c.incidents;
  const gp = c.policy.grouping;
  let metered = 0;
  const low: string[] = [];
  let primarySum = 0;
  for (const st of U.stations[g]!) {
    if (!ix.stationHasMeter[st]) continue;
    metered++;
    if (c.stations.confirmed[st]! & FAULT_CURVE) {
      low.push(ix.stationIds[st]!);
      primarySum += c.stations.values[st * FIELD_COUNT + STATION_SLOT.primarySupplyTemp]!;
    }
  }
  const share = metered > 0 ? low.length / metered : 0;
  let inc = U.incident[g];
  if (swallowedBy) {
    if (!inc) return false;
    reg.merge(inc, swallowedBy, at);
    U.incident[g] = undefined;
    return true;
  }
  if (!inc) {
    if (!(c.season.inSeason(at) && metered >= gp.minSourceStations && low.length >= gp.minSourceStations && share >= gp.sourceStationShare))
      return false;
    inc = U.incident[g] = reg.makeGroup({
      kind: 'source_cold',
      subjectType: 'source',
      subjectId: U.ids[g]!,
      startTs: at,
      severity: 'critical',
      cause: 'heat_source',
    });
    inc.children = low;
    inc.evidence.scope = g < ix.sourceIds.length ? 'source' : 'branch';
    inc.evidence.sourceId = ix.sourceIds[U.source[g]!]!;
    inc.evidence.lowStationShare = r2(share);
    inc.evidence.meteredStations = metered;
    inc.evidence.lowStationsPrimarySupplyC = r2(primarySum / low.length);
    reg.register(inc);
    reg.emit('opened', at, inc);
    return true;
  }
  if (share < gp.sourceStationShare * gp.resolveShareRatio) {
    inc.evidence.lowStationShare = r2(share);
    reg.resolve(inc, at, at);
    U.incident[g] = undefined;
    return true;
  }
  const old = inc.children!;
  // Stations that recovered stay listed until the incident resolves (history); newly low ones join.
  const merged = U.stations[g]!.map((st) => ix.stationIds[st]!).filter((id) => low.includes(id) || old.includes(id));
  if (merged.length === old.length) return false;
  inc.children = merged;
  inc.evidence.lowStationShare = r2(share);
  reg.emit('updated', at, inc);
  return true;
}
