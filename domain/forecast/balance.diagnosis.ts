/**
 * Balancing diagnosis (二网平衡, issue #20): which buildings, risers (entrances) and floors of a
 * station are colder than the station's supply explains — the engineer's list of valves to
 * adjust. Each monitored apartment's recent mean temperature is decomposed additively, with
 * medians so one odd flat (an open window, an in-home fault) does not move a group:
 *
 *   T = station + position(floor band × end unit) + building + riser + floor + residual
 *
 * position is the exposure effect every building has (ground and top floors, end units lose
 * more heat): it is not a balancing fault, so it is taken out station-wide first. Two rounds of
 * sequential medians (median polish) settle the effects. An item is listed when its effect is
 * below −minEffect and its robust z (effect over the residual spread / √n) passes minZ;
 * the list is ranked by that z.
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

export function diagnoseBalance(stationId: string, apts: readonly BalanceApartment[], o: { minEffectC: number; minZ: number }): BalanceDiagnosis {
  const xs = apts.filter((a) => Number.isFinite(a.meanC));
  const stationMedianC = median(xs.map((a) => a.meanC));
  const r = xs.map((a) => a.meanC - stationMedianC);
  const keys = {
    position: xs.map(band),
    building: xs.map((a) => a.buildingId),
    riser: xs.map((a) => `${a.buildingId}#${a.entrance}`),
    floor: xs.map((a) => `${a.buildingId}@${a.floor}`),
  };
  const effects = { position: new Map<string, number>(), building: new Map<string, number>(), riser: new Map<string, number>(), floor: new Map<string, number>() };
  const sweep = (name: keyof typeof keys) => {
    const groups = new Map<string, number[]>();
    keys[name].forEach((k, i) => {
      const g = groups.get(k) ?? [];
      g.push(i);
      groups.set(k, g);
    });
    for (const [k, idx] of groups) {
      const m = median(idx.map((i) => r[i]!));
      effects[name].set(k, (effects[name].get(k) ?? 0) + m);
      for (const i of idx) r[i] = r[i]! - m;
    }
  };
  for (let round = 0; round < 2; round++) for (const name of ['position', 'building', 'riser', 'floor'] as const) sweep(name);
  // Residual spread: MAD of what no effect explains, scaled to an sd; floored at the sensors' own error.
  const spread = Math.max(0.3, 1.4826 * median(r.map(Math.abs)));
  const items: BalanceItem[] = [];
  const members = (name: 'building' | 'riser' | 'floor', k: string) => xs.filter((_, i) => keys[name][i] === k);
  for (const name of ['building', 'riser', 'floor'] as const) {
    for (const [k, eff] of effects[name]) {
      const m = members(name, k);
      // A floor or riser with one flat is that flat: an in-home fault, not a valve.
      if (name !== 'building' && m.length < 2) continue;
      const z = eff / (spread / Math.sqrt(m.length));
      if (eff > -o.minEffectC || -z < o.minZ) continue;
      const b = m[0]!.buildingId;
      items.push({
        kind: name,
        id: k,
        buildingId: b,
        ...(name === 'riser' ? { entrance: m[0]!.entrance } : {}),
        ...(name === 'floor' ? { floor: m[0]!.floor } : {}),
        effectC: Math.round(eff * 100) / 100,
        z: Math.round(z * 10) / 10,
        apartments: m.map((a) => a.apartmentId),
        evidence: {
          meanC: Math.round((m.reduce((s, a) => s + a.meanC, 0) / m.length) * 100) / 100,
          stationMedianC: Math.round(stationMedianC * 100) / 100,
          apartments: m.length,
          hours: Math.min(...m.map((a) => a.hours)),
        },
      });
    }
  }
  items.sort((a, b) => a.z - b.z);
  return { stationId, stationMedianC, residualSpreadC: spread, monitored: xs.length, items };
}
