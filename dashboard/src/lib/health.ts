/**
 * Station health as the map colours it, from two facts the platform already judged:
 * open incidents (the rules engine's verdict under the heating policy) and the share of the
 * station's monitored apartments currently below the standard (N2, from live readings).
 * Pure functions: unit-tested beside this file, used by the live state and the bench.
 */
import type { IncidentKind } from './api.ts';

export type HealthLevel = 'ok' | 'watch' | 'alarm' | 'unknown';

/** Worst first: a cluster shows its worst member. */
export const HEALTH_ORDER: readonly HealthLevel[] = ['alarm', 'watch', 'ok', 'unknown'];

/** Kinds that say "the station itself (or what feeds it) is in trouble". */
const STATION_KINDS: ReadonlySet<IncidentKind> = new Set<IncidentKind>(['station_fault', 'station_cold', 'station_silent', 'source_cold']);
/** Kinds that say "some homes on this station are cold". */
const HOME_KINDS: ReadonlySet<IncidentKind> = new Set<IncidentKind>(['apartment_cold', 'building_cold']);

export function isStationKind(kind: IncidentKind): boolean {
  return STATION_KINDS.has(kind);
}

export function isHomeKind(kind: IncidentKind): boolean {
  return HOME_KINDS.has(kind);
}

export interface HealthFacts {
  readonly stationIncidents: number;
  readonly homeIncidents: number;
  readonly coldApartments: number;
  readonly monitoredApartments: number;
  /** Any reading or incident seen for the station. */
  readonly hasData: boolean;
  /** Share of cold apartments that counts as station-wide cold (policy grouping.stationColdShare); undefined: only incidents decide. */
  readonly alarmColdShare?: number;
  /** Minimum monitored apartments before a share means anything (policy grouping.minMonitored). */
  readonly minMonitored?: number;
}

export function healthOf(f: HealthFacts): HealthLevel {
  if (f.stationIncidents > 0) return 'alarm';
  const shareCounts = f.alarmColdShare !== undefined && f.monitoredApartments >= (f.minMonitored ?? 1);
  if (shareCounts && f.coldApartments / f.monitoredApartments >= f.alarmColdShare) return 'alarm';
  if (f.homeIncidents > 0 || f.coldApartments > 0) return 'watch';
  return f.hasData ? 'ok' : 'unknown';
}

export function worst(a: HealthLevel, b: HealthLevel): HealthLevel {
  return HEALTH_ORDER.indexOf(a) <= HEALTH_ORDER.indexOf(b) ? a : b;
}

/** Fill colours: red/amber/green/grey, distinguishable for common colour blindness by lightness too. */
export const HEALTH_COLOUR: Readonly<Record<HealthLevel, string>> = {
  alarm: '#d7301f',
  watch: '#f0a202',
  ok: '#2e9e5b',
  unknown: '#9aa3ad',
};

export interface MapPoint {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly level: HealthLevel;
}

export interface Cluster {
  readonly key: string;
  readonly x: number;
  readonly y: number;
  readonly count: number;
  readonly level: HealthLevel;
  readonly counts: Readonly<Record<HealthLevel, number>>;
  readonly ids: readonly string[];
}

/**
 * Grid clustering in screen space: points in the same `cellPx` square merge into one marker at
 * their centroid, coloured by the worst member. O(n), stable keys per cell.
 */
export function clusterPoints(points: readonly MapPoint[], cellPx: number): Cluster[] {
  const cells = new Map<number, { sx: number; sy: number; ids: string[]; counts: Record<HealthLevel, number>; level: HealthLevel }>();
  for (const p of points) {
    // Numeric cell key (screen cells never reach 2^16 per axis): cheaper than strings at 5,000 points.
    const key = (Math.floor(p.x / cellPx) + 0x8000) * 0x10000 + (Math.floor(p.y / cellPx) + 0x8000);
    let c = cells.get(key);
    if (!c) {
      c = { sx: 0, sy: 0, ids: [], counts: { alarm: 0, watch: 0, ok: 0, unknown: 0 }, level: 'unknown' };
      cells.set(key, c);
    }
    c.sx += p.x;
    c.sy += p.y;
    c.ids.push(p.id);
    c.counts[p.level]++;
    c.level = c.ids.length === 1 ? p.level : worst(c.level, p.level);
  }
  const out: Cluster[] = [];
  for (const [key, c] of cells) {
    out.push({
      key: String(key),
      x: c.sx / c.ids.length,
      y: c.sy / c.ids.length,
      count: c.ids.length,
      level: c.level,
      counts: c.counts,
      ids: c.ids,
    });
  }
  return out;
}
