/**
 * Readings folded into hourly means (the model's time step): per apartment the N32 value of
 * the hour (area-weighted mean of its counted rooms that reported, each room the mean of its
 * sensors' readings), per station the mean secondary supply, outdoor temperature and flow,
 * and the share of readings with the pump running. Hours stay open until the watermark has
 * passed their end by a grace period, so devices that interleave across an hour boundary
 * still land in the right hour; a reading for an hour already closed is counted and dropped
 * (the store keeps it; the model does not go back).
 */
import type { Reading } from '../reading.ts';
import type { TopologyIndex } from '../rules/topology.index.ts';

export const HOUR_MS = 3_600_000;

export interface StationHour {
  readonly supplyC: number;
  readonly outdoorC: number;
  readonly flowM3h: number;
  /** Share of the hour's meter readings with the pump running (NaN: pump not reported). */
  readonly pumpShare: number;
}

export interface ClosedHour {
  readonly hour: number;
  /** Apartment hourly values (NaN: no data that hour), by apartment index. */
  readonly apt: Float64Array;
  /** Station hourly values by station index (undefined: no meter data). */
  readonly station: readonly (StationHour | undefined)[];
}

class OpenHour {
  readonly roomSum: Float64Array;
  readonly roomN: Uint16Array;
  readonly st: Float64Array;
  constructor(
    readonly hour: number,
    nRooms: number,
    nStations: number,
  ) {
    this.roomSum = new Float64Array(nRooms);
    this.roomN = new Uint16Array(nRooms);
    // Per station: supply sum, n, outdoor sum, n, flow sum, n, pump-on count, pump n.
    this.st = new Float64Array(nStations * 8);
  }
}

export class HourlyBins {
  readonly #open = new Map<number, OpenHour>();
  /** Hours at or before this are closed. */
  #closedThrough = Number.NEGATIVE_INFINITY;
  late = 0;

  constructor(
    private readonly ix: TopologyIndex,
    private readonly pumpStoppedHz: number,
  ) {}

  #bin(hour: number): OpenHour | undefined {
    if (hour <= this.#closedThrough) {
      this.late++;
      return undefined;
    }
    let b = this.#open.get(hour);
    if (!b) {
      b = new OpenHour(hour, this.ix.roomIds.length, this.ix.stationIds.length);
      this.#open.set(hour, b);
    }
    return b;
  }

  add(r: Reading): void {
    const hour = Math.floor(r.ts / HOUR_MS);
    if (r.kind === 'room_sensor') {
      const s = this.ix.sensorOf.get(r.deviceId);
      const t = r.fields.temp;
      if (s === undefined || t === undefined || !Number.isFinite(t) || !this.ix.sensorCounted[s]) return;
      const b = this.#bin(hour);
      if (!b) return;
      const room = this.ix.sensorRoom[s]!;
      b.roomSum[room] = b.roomSum[room]! + t;
      b.roomN[room] = b.roomN[room]! + 1;
    } else if (r.kind === 'station_meter') {
      const m = this.ix.meterOf.get(r.deviceId);
      if (m === undefined) return;
      const b = this.#bin(hour);
      if (!b) return;
      const o = this.ix.meterStation[m]! * 8;
      const f = r.fields;
      const acc = (slot: number, v: number | undefined) => {
        if (v === undefined || !Number.isFinite(v)) return;
        b.st[o + slot] = b.st[o + slot]! + v;
        b.st[o + slot + 1] = b.st[o + slot + 1]! + 1;
      };
      acc(0, f.secondarySupplyTemp);
      acc(2, f.outdoorTemp);
      acc(4, f.secondaryFlow);
      if (f.pumpHz !== undefined) acc(6, f.pumpHz >= this.pumpStoppedHz ? 1 : 0);
    }
  }

  /** Close every open hour that ends at or before `ts − graceMs`, oldest first. */
  closeUpTo(ts: number, graceMs: number): ClosedHour[] {
    const last = Math.floor((ts - graceMs) / HOUR_MS) - 1;
    if (last <= this.#closedThrough) return [];
    const hours = [...this.#open.keys()].filter((h) => h <= last).sort((a, b) => a - b);
    const out: ClosedHour[] = [];
    for (const h of hours) {
      out.push(this.#finish(this.#open.get(h)!));
      this.#open.delete(h);
    }
    this.#closedThrough = last;
    return out;
  }

  #finish(b: OpenHour): ClosedHour {
    const ix = this.ix;
    const apt = new Float64Array(ix.aptIds.length).fill(Number.NaN);
    for (let a = 0; a < ix.aptIds.length; a++) {
      const rooms = ix.aptMeasuredRooms[a];
      if (!rooms || rooms.length === 0) continue;
      let wsum = 0;
      let sum = 0;
      for (const room of rooms) {
        const n = b.roomN[room]!;
        if (n === 0) continue;
        const w = ix.roomArea[room]! > 0 ? ix.roomArea[room]! : 1;
        wsum += w;
        sum += (w * b.roomSum[room]!) / n;
      }
      if (wsum > 0) apt[a] = sum / wsum;
    }
    const station: (StationHour | undefined)[] = [];
    for (let s = 0; s < ix.stationIds.length; s++) {
      const o = s * 8;
      const mean = (slot: number) => (b.st[o + slot + 1]! > 0 ? b.st[o + slot]! / b.st[o + slot + 1]! : Number.NaN);
      const supplyC = mean(0);
      const outdoorC = mean(2);
      station.push(
        Number.isFinite(supplyC) && Number.isFinite(outdoorC) ? { supplyC, outdoorC, flowM3h: mean(4), pumpShare: mean(6) } : undefined,
      );
    }
    return { hour: b.hour, apt, station };
  }
}
