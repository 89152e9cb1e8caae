/**
 * Balancing diagnosis (二网平衡, issue #20): which buildings, risers (entrances) and floors of a
 * station are colder than the station's supply explains — the engineer's list of valves to
 * adjust. Each monitored apartment's recent mean temperature is decomposed additively, with
 * medians so one odd flat (an open window, an in-home fault) does not move a group:
 *
 *   T = station + position(floor band × end unit) + riser + floor + residual
 *
 * position is the exposure every building has (ground and top floors, end units lose more
 * heat): not a balancing fault, so it is taken out station-wide first. A riser colder than its
 * sibling risers is a riser item (its valve); a building whose risers are all cold is a
 * building item (its building valve); a floor colder than its riser explains is a floor item.
 * An item is listed when its effect is below −minEffect and its robust z (effect over the
 * residual spread / √n) passes minZ; the list is ranked by z.
 */
export interface BalanceApartment {
  readonly apartmentId: string;
  readonly buildingId: string;
  readonly entrance: number;
  readonly floor: number;
  readonly floors: number;
  readonly endUnit: boolean;
  /** Recent mean indoor temperature, °C. */
  readonly meanC: number;
  /** Hours behind the mean. */
  readonly hours: number;
}

export interface BalanceItem {
  readonly kind: 'building' | 'riser' | 'floor';
  /** building id; riser `${buildingId}#${entrance}`; floor `${buildingId}@${floor}`. */
  readonly id: string;
  readonly buildingId: string;
  readonly entrance?: number;
  readonly floor?: number;
  /** Effect beyond the station's supply and the flats' exposure, °C (negative: colder). */
  readonly effectC: number;
  readonly z: number;
  readonly apartments: readonly string[];
  readonly evidence: Readonly<Record<string, number>>;
}

export interface BalanceDiagnosis {
  readonly stationId: string;
  readonly stationMedianC: number;
  readonly residualSpreadC: number;
  readonly monitored: number;
  readonly items: readonly BalanceItem[];
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};

const band = (a: BalanceApartment) => `${a.floor === 1 ? 'g' : a.floor === a.floors ? 't' : 'm'}${a.endUnit ? 'e' : 'i'}`;

/** A group's effect for listing: its median, but with two flats the warmer one (both must be cold: one cold flat is that flat). */
const listed = (xs: number[]) => (xs.length === 2 ? Math.max(xs[0]!, xs[1]!) : median(xs));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const r2 = (x: number) => Math.round(x * 100) / 100;

export function diagnoseBalance(
  stationId: string,
  apts: readonly BalanceApartment[],
  o: { minEffectC: number; minZ: number },
): BalanceDiagnosis {
  const xs = apts.filter((a) => Number.isFinite(a.meanC));
  const stationMedianC = median(xs.map((a) => a.meanC));
  // Exposure by floor band × end unit, station-wide (medians: robust to one cold riser).
  const bands = new Map<string, number[]>();
  xs.forEach((a) => bands.set(band(a), [...(bands.get(band(a)) ?? []), a.meanC - stationMedianC]));
  const position = new Map([...bands].map(([k, v]) => [k, median(v)]));
  const r1 = xs.map((a) => a.meanC - stationMedianC - position.get(band(a))!);
  const group = (key: (a: BalanceApartment) => string) => {
    const m = new Map<string, number[]>();
    xs.forEach((a, i) => m.set(key(a), [...(m.get(key(a)) ?? []), i]));
    return m;
  };
  const riserKey = (a: BalanceApartment) => `${a.buildingId}#${a.entrance}`;
  const risers = group(riserKey);
  const riserEffect = new Map([...risers].map(([k, idx]) => [k, median(idx.map((i) => r1[i]!))]));
  // Residual spread after risers: MAD scaled to an sd, floored at the sensors' own error (N31).
  const resid = xs.map((a, i) => r1[i]! - riserEffect.get(riserKey(a))!);
  const spread = Math.max(0.3, 1.4826 * median(resid.map(Math.abs)));
  const items: BalanceItem[] = [];
  const push = (kind: BalanceItem['kind'], id: string, idx: number[], effect: number, extra: Record<string, number>) => {
    const z = effect / (spread / Math.sqrt(idx.length));
    if (effect > -o.minEffectC || -z < o.minZ) return;
    const m = idx.map((i) => xs[i]!);
    items.push({
      kind,
      id,
      buildingId: m[0]!.buildingId,
      ...(kind === 'riser' ? { entrance: m[0]!.entrance } : {}),
      ...(kind === 'floor' ? { floor: m[0]!.floor } : {}),
      effectC: r2(effect),
      z: Math.round(z * 10) / 10,
      apartments: m.map((a) => a.apartmentId),
      evidence: {
        meanC: r2(mean(m.map((a) => a.meanC))),
        stationMedianC: r2(stationMedianC),
        apartments: m.length,
        hours: Math.min(...m.map((a) => a.hours)),
        ...extra,
      },
    });
  };
  for (const [b, idx] of group((a) => a.buildingId)) {
    const own = [...risers].filter(([k]) => k.startsWith(`${b}#`));
    const effects = own.map(([k]) => riserEffect.get(k)!);
    // A building is cold as a whole when its risers are: the median riser carries the shortfall.
    const buildingEffect = median(effects);
    push('building', b, idx, buildingEffect, { risersWithData: own.length });
    for (const [k, ridx] of own) {
      const siblings = own.filter(([j]) => j !== k).map(([j]) => riserEffect.get(j)!);
      // Colder than its siblings by more than the threshold (or the only riser seen: it cannot be told from its building).
      const beyond = siblings.length ? riserEffect.get(k)! - median(siblings) : riserEffect.get(k)!;
      if (beyond > -o.minEffectC) continue;
      push('riser', k, ridx, listed(ridx.map((i) => r1[i]!)), { siblingRisers: siblings.length, belowSiblingsC: r2(beyond) });
    }
  }
  for (const [k, idx] of group((a) => `${a.buildingId}@${a.floor}`)) {
    // A floor with one flat is that flat: an in-home fault, not a valve.
    if (idx.length < 2) continue;
    push('floor', k, idx, listed(idx.map((i) => resid[i]!)), {});
  }
  items.sort((a, b) => a.z - b.z);
  return { stationId, stationMedianC, residualSpreadC: spread, monitored: xs.length, items };
}
