/**
 * Root cause and grouping (heating-norms §E.1–§E.4): the cause and parent of each open
 * apartment incident (heat source, station fault, station group, building group, riser,
 * in-home, unknown) with the evidence that decided it, and the share-based `station_cold`
 * and `building_cold` groups of one station, whose children lists this file keeps exact.
 * Runs on incident transitions only, never per reading.
 */
import type { CauseClass, Incident } from '../incident.schema.ts';
import type { IncidentWhere } from './incident.registry.ts';
import { outdoorDayMean } from './compliance.rule.ts';
import { r2, type RuleContext } from './engine.state.ts';
import { apartmentValue } from './sensor.rule.ts';
import { upstreamFor } from './source.rule.ts';
import { FIELD_COUNT, STATION_SLOT, faultNames } from './station.rule.ts';

/** An apartment incident whose group parent has resolved: its cause stays as decided. */
export function settled(c: RuleContext, inc: Incident): boolean {
  return inc.parentId !== undefined && !c.incidents.isOpen(inc.parentId);
}

function stationState(c: RuleContext, st: number): string {
  const ix = c.ix;
  if (st < 0 || !ix.stationHasMeter[st]) return 'unmetered';
  const faultBits = c.stations.confirmed[st]!;
  if (faultBits) return `fault:${faultNames(faultBits)}`;
  if (c.incidents.has('station_silent', ix.stationIds[st]!)) return 'silent';
  return Number.isNaN(c.stations.values[st * FIELD_COUNT + STATION_SLOT.secondarySupplyTemp]!) ? 'no_data' : 'ok';
}

/**
 * heating-norms §E: decide parent and cause of an open apartment incident and refresh its
 * evidence. Returns true when parent or cause changed.
 */
export function classify(c: RuleContext, a: number, inc: Incident, at: number, v: number, initial = false): boolean {
  const ix = c.ix;
  const A = c.apartments;
  const st = ix.aptStation[a]!;
  const b = ix.aptBuilding[a]!;
  const std = c.k.standardC;
  // A station fault explains only shortfalls that began after it did: an apartment already
  // cold before the pump stopped has its own cause.
  const stFault = st >= 0 ? c.stations.faultInc[st] : undefined;
  const fault = stFault !== undefined && inc.startTs >= stFault.startTs ? stFault : undefined;
  let parent: Incident | undefined = fault ?? (st >= 0 ? c.stations.coldInc[st] : undefined);
  if (!parent && b >= 0) parent = c.buildings.coldInc[b];
  const srcInc = fault !== undefined ? upstreamFor(c, st) : undefined;
  const sourceDown = srcInc !== undefined;
  // Without a group to join, the cause decided at opening stands (the neighbours' state then
  // was the evidence), and a settled incident keeps its resolved parent.
  const isSettled = settled(c, inc);
  const standing = initial ? isSettled : inc.parentId === undefined || isSettled;
  if (!parent && !sourceDown && standing) return false;

  // Neighbours: other monitored apartments of the building below the standard now.
  const others = b >= 0 ? ix.buildingMonitored[b]! - 1 : 0;
  const coldOthers = b >= 0 ? c.buildings.belowNow[b]! - A.belowNow[a]! : 0;
  const share = others > 0 ? coldOthers / others : 0;
  const above = ix.aptAbove[a]!;
  const aboveC = above >= 0 ? A.lastValue[above]! : Number.NaN;
  const aboveCold = aboveC < std;

  let cause: CauseClass;
  if (sourceDown) cause = 'heat_source';
  else if (parent)
    cause = parent.cause; // a child's cause follows its group
  else if (others === 0 && Number.isNaN(aboveC)) cause = 'unknown';
  else if (aboveCold || share >= c.policy.grouping.buildingColdShare)
    cause = 'building'; // §E.3 riser
  else cause = 'in_home'; // §E.4
  const parentId = parent?.id ?? (sourceDown ? srcInc.id : undefined);
  const changed = inc.cause !== cause || inc.parentId !== parentId;
  // Evidence is what decided the cause: refreshed only when the decision is (re)made.
  if (!initial && !changed) return false;

  const { measured, areaM2 } = apartmentValue(c, a, A.lastEval[a]!);
  const counted = ix.aptCountedRooms[a]!;
  const ev = inc.evidence;
  ev.apartmentC = r2(v);
  ev.standardC = std;
  ev.coverage = measured < counted ? 'partial' : 'full'; // N32
  ev.roomsCounted = counted;
  ev.roomsMeasured = measured;
  ev.areaMeasuredM2 = r2(areaM2);
  ev.stationState = stationState(c, st);
  ev.coldNeighbourShare = r2(share);
  ev.monitoredNeighbours = others;
  ev.aboveApartmentId = above >= 0 ? ix.aptIds[above]! : null;
  ev.aboveC = r2(aboveC);
  ev.outdoorDayMeanC = r2(outdoorDayMean(c, st, c.season.dayIndex(at)));
  inc.cause = cause;
  if (parentId === undefined) delete inc.parentId;
  else inc.parentId = parentId;
  return changed;
}

type GroupKind = 'station_cold' | 'building_cold';
/** What each share-based group is: a station's is critical with the station as cause (§E.2), a building's major (§E.3). */
const GROUP_KINDS = {
  station_cold: { subjectType: 'station', severity: 'critical', cause: 'station' },
  building_cold: { subjectType: 'building', severity: 'major', cause: 'building' },
} as const;

/**
 * One share-based group of one step: with a `parent` (a station fault, or the station's own
 * group for a building) the group is merged into it; otherwise opened in season once enough
 * apartments are monitored and `share` reaches `minShare`, and resolved once it falls below
 * minShare × resolveShareRatio. Returns the group that stays open, if any.
 */
function stepGroup(
  c: RuleContext,
  inc: Incident | undefined,
  parent: Incident | undefined,
  share: number,
  monitored: number,
  minShare: number,
  at: number,
  opened: Incident[],
  open: () => Incident,
): Incident | undefined {
  const g = c.policy.grouping;
  if (parent) {
    if (inc) c.incidents.merge(inc, parent, at);
    return undefined;
  }
  if (!inc) {
    if (!c.season.inSeason(at) || monitored < g.minMonitored || share < minShare) return undefined;
    const made = open();
    made.evidence.coldShare = r2(share);
    made.evidence.monitored = monitored;
    opened.push(made);
    return made;
  }
  if (share < minShare * g.resolveShareRatio) {
    inc.evidence.coldShare = r2(share);
    c.incidents.resolve(inc, at, at);
    return undefined;
  }
  return inc;
}

/**
 * Re-decide a station's group incidents and its apartments' parents (§E). Order of events:
 * groups opened/resolved, then apartments updated, then groups whose children changed.
 */
export function reconcileStation(c: RuleContext, st: number, at: number): void {
  const ix = c.ix;
  const reg = c.incidents;
  const S = c.stations;
  const B = c.buildings;
  const g = c.policy.grouping;
  const fault = S.faultInc[st];
  const opened: Incident[] = [];
  const stId = ix.stationIds[st]!;

  // Cold apartments that still need a group: those whose parent already resolved keep
  // that parent (the cause was decided) and no longer count towards a new group.
  let stCold = 0;
  const bCold = B.scratch;
  for (const a of ix.stationApts[st]!) {
    const inc = c.apartments.incident[a];
    if (!inc || settled(c, inc)) continue;
    stCold++;
    bCold[ix.aptBuilding[a]!]!++;
  }
  const mon = ix.stationMonitored[st]!;
  const open = (kind: GroupKind, subjectId: string, where: IncidentWhere) => () =>
    reg.makeGroup({ kind, subjectId, startTs: at, where, ...GROUP_KINDS[kind] });
  const sc = (S.coldInc[st] = stepGroup(
    c,
    S.coldInc[st],
    fault,
    mon > 0 ? stCold / mon : 0,
    mon,
    g.stationColdShare,
    at,
    opened,
    open('station_cold', stId, { stationId: stId }),
  ));
  const stationParent = fault ?? sc;
  for (const b of ix.stationBuildings[st]!) {
    const bm = ix.buildingMonitored[b]!;
    const bs = bm > 0 ? bCold[b]! / bm : 0;
    bCold[b] = 0;
    const bId = ix.buildingIds[b]!;
    B.coldInc[b] = stepGroup(
      c,
      B.coldInc[b],
      stationParent,
      bs,
      bm,
      g.buildingColdShare,
      at,
      opened,
      open('building_cold', bId, { stationId: stId, buildingId: bId }),
    );
  }

  // Source-level cause for the station's own incidents.
  const srcInc = upstreamFor(c, st);
  const groupChanged: Incident[] = [];
  for (const gi of [fault, sc]) {
    if (!gi) continue;
    const cause: CauseClass = srcInc ? 'heat_source' : 'station';
    const pid = srcInc?.id;
    if (gi.cause !== cause || gi.parentId !== pid) {
      gi.cause = cause;
      if (pid === undefined) delete gi.parentId;
      else gi.parentId = pid;
      if (!opened.includes(gi)) groupChanged.push(gi);
    }
  }

  const aptChanged: Incident[] = [];
  for (const a of ix.stationApts[st]!) {
    const inc = c.apartments.incident[a];
    if (inc && classify(c, a, inc, at, c.apartments.lastValue[a]!)) aptChanged.push(inc);
  }
  for (const gi of syncChildren(c, st, fault, sc)) if (!opened.includes(gi) && !groupChanged.includes(gi)) groupChanged.push(gi);
  for (const gi of opened) {
    reg.register(gi);
    reg.emit('opened', at, gi);
  }
  for (const inc of aptChanged) reg.emit('updated', at, inc);
  for (const gi of groupChanged) reg.emit('updated', at, gi);
}

/** Children lists of the station's groups, in topology order (deterministic). Returns the groups whose list changed. */
function syncChildren(c: RuleContext, st: number, fault: Incident | undefined, sc: Incident | undefined): Incident[] {
  const ix = c.ix;
  const groups: Incident[] = [];
  if (fault) groups.push(fault);
  if (sc) groups.push(sc);
  for (const b of ix.stationBuildings[st]!) {
    const bc = c.buildings.coldInc[b];
    if (bc) groups.push(bc);
  }
  const children = new Map<Incident, string[]>(groups.map((gi) => [gi, []]));
  const byId = new Map(groups.map((gi) => [gi.id, gi]));
  const resolvedKids = c.incidents.resolvedKids;
  for (const a of ix.stationApts[st]!) {
    const inc = c.apartments.incident[a];
    const aptId = ix.aptIds[a]!;
    const gi = inc?.parentId !== undefined ? byId.get(inc.parentId) : undefined;
    if (gi) children.get(gi)!.push(aptId);
    // A resolved child still points to its group (topology order either way).
    for (const g2 of groups) if (g2 !== gi && resolvedKids.get(g2.id)?.includes(aptId)) children.get(g2)!.push(aptId);
  }
  const changed: Incident[] = [];
  for (const gi of groups) {
    const kids = children.get(gi)!;
    const old = gi.children ?? [];
    const same = old.length === kids.length && old.every((x, i) => x === kids[i]);
    gi.children = kids;
    if (!same) changed.push(gi);
  }
  return changed;
}
