/**
 * Faults for the forecast evaluation (issue #20), drawn from a seed over an evaluation window:
 * the kinds a season brings (riser imbalance, in-home faults, a pump stop, a heat-source drop,
 * a cold snap beyond what the curve covers). Locations are picked among monitored apartments
 * so each fault is visible to the sensors; nothing about them reaches the forecaster.
 */
import { HOUR_MS } from '../domain/clock.ts';
import type { City } from '../domain/topology.schema.ts';
import { Rng } from './random.ts';
import type { FaultSpec } from './thermal.model.ts';

/** Apartments that carry a sensor, by building and entrance. */
export function monitoredByEntrance(city: City): Map<string, string[]> {
  const sensed = new Set(city.devices.filter((d) => d.kind === 'room_sensor' && d.roomId).map((d) => d.roomId!.replace(/-r\d+$/, '')));
  const out = new Map<string, string[]>();
  for (const a of city.apartments) {
    if (!sensed.has(a.id)) continue;
    const k = `${a.buildingId}#${a.entrance}`;
    const l = out.get(k) ?? [];
    l.push(a.id);
    out.set(k, l);
  }
  return out;
}

/** A riser (building entrance) with at least `minMonitored` monitored apartments, in a building with ≥ 2 entrances. */
export function pickRiser(
  city: City,
  rng: Rng,
  minMonitored = 2,
  stationId?: string,
): { buildingId: string; entrance: number } | undefined {
  const byEntrance = monitoredByEntrance(city);
  const ok = [...byEntrance.entries()]
    .filter(([k, apts]) => {
      const b = city.buildings.find((x) => x.id === k.split('#')[0])!;
      return apts.length >= minMonitored && b.entrances >= 2 && (!stationId || b.stationId === stationId);
    })
    .map(([k]) => k)
    .sort();
  if (ok.length === 0) return undefined;
  const [buildingId, e] = rng.pick(ok).split('#');
  return { buildingId: buildingId!, entrance: Number(e) };
}

export function seasonFaults(city: City, seed: number, from: number, to: number): FaultSpec[] {
  const rng = new Rng(seed ^ 0x5eed);
  const span = to - from;
  const at = (lo: number, hi: number) => Math.round((from + span * rng.range(lo, hi)) / HOUR_MS) * HOUR_MS + rng.int(0, 59) * 60_000;
  const faults: FaultSpec[] = [];
  for (let i = 0; i < 2; i++) {
    const r = pickRiser(city, rng);
    if (r)
      faults.push({ kind: 'riser_imbalance', ...r, factor: rng.range(0.35, 0.6), at: at(0.05, 0.7), durationMin: rng.int(24, 72) * 60 });
  }
  const monitored = [...monitoredByEntrance(city).values()].flat().sort();
  for (let i = 0; i < 4; i++) {
    const apartmentId = rng.pick(monitored);
    faults.push({ kind: i % 2 ? 'air_lock' : 'blocked_strainer', apartmentId, at: at(0.05, 0.85), durationMin: rng.int(12, 48) * 60 });
  }
  const stations = city.stations.map((s) => s.id);
  faults.push({ kind: 'pump_failure', stationId: rng.pick(stations), at: at(0.1, 0.9), durationMin: rng.int(3, 6) * 60 });
  faults.push({
    kind: 'heat_source_drop',
    sourceId: city.stations[0]!.sourceId,
    dropC: rng.range(30, 45),
    at: at(0.1, 0.9),
    durationMin: rng.int(4, 10) * 60,
  });
  faults.push({ kind: 'cold_snap', depthC: rng.range(9, 13), at: at(0.2, 0.8), durationMin: rng.int(24, 48) * 60 });
  return faults;
}
