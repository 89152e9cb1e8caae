/**
 * Thermal model of a city: outdoor weather, each station's weather-compensation control,
 * the secondary network, and the rooms that carry sensors. Deterministic: the same city,
 * seed, start and faults give the same values at the same times.
 *
 * Rooms are two nodes: the building mass (slow, hours) heated by radiators and losing heat
 * outdoors, and the room air (fast, minutes) that follows the mass unless a window is open.
 * With heating stopped the mass falls with a ~10 h time constant, i.e. a room at 20 °C
 * reaches ~16 °C in about 3 h at typical outdoor temperatures (heating-norms §E).
 *
 * Only rooms with a sensor are simulated, so a 2-million-apartment city costs what its
 * sensors cost.
 */
import { HOUR_MS, MINUTE_MS } from '../domain/clock.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import type { RoomSensorPayload, StationMeterPayload } from '../domain/telemetry.schema.ts';
import { heatingCurveSetpointC } from '../domain/rules/station.rule.ts';
import { indexCity, type CityIndex } from './city.index.ts';
import type {
  ActiveFault,
  StationState,
  DeviceOutput,
  FaultKind,
  FaultSpec,
  ThermalModelOptions,
  WeatherOptions,
} from './thermal.types.ts';
import { hash32, noise } from './random.ts';

export type { DeviceOutput, FaultKind, FaultSpec, ThermalModelOptions, WeatherOptions } from './thermal.types.ts';

/** The model's physical calibration, one object with units in the names. */
const PHYSICS = {
  /** Room conductance ratio radiator/outdoor calibrated so the policy curve keeps ~20–21 °C. */
  radiatorRatio: 1 / 1.2,
  /** Coupling to neighbours and internal gains (keeps an unheated flat above outdoor), and their temperature. */
  neighbourG: 0.15,
  neighbourC: 18,
  /** Mass heat capacity in hours × conductance: unheated time constant ≈ 13 h. */
  massCapacityH: 16,
  airTauMin: 8,
  /** Share of (mass − outdoor) the air loses while a window is open. */
  windowAirLoss: 0.45,
  nominalPumpHz: 42,
  /** Exchanger effectiveness per unit valve opening. */
  exchangerEff: 0.3,
} as const;

export class ThermalModel {
  readonly index: CityIndex;
  readonly policy: HeatingPolicy;
  readonly seed: number;
  #now: number;
  readonly #stepMs: number;
  readonly #weather: Required<WeatherOptions>;
  readonly #phases: number[];
  readonly #faults: ActiveFault[] = [];
  readonly #stations = new Map<string, StationState>();
  readonly #stationList: StationState[] = [];
  // Sensor rooms, struct-of-arrays.
  readonly #roomIdx = new Map<string, number>();
  readonly #roomIds: string[] = [];
  readonly #roomApt: string[] = [];
  readonly #roomBuilding: string[] = [];
  readonly #roomEntrance: number[] = [];
  readonly #roomStation: StationState[] = [];
  readonly #ratio: Float64Array;
  readonly #mass: Float64Array;
  readonly #air: Float64Array;
  readonly #stuck = new Map<string, Omit<RoomSensorPayload, 'ts'>>();
  /** Per-station heating-curve offsets an engineer applied (issue #20 curve advice), °C. */
  readonly #curveOffset = new Map<string, number>();

  constructor(opts: ThermalModelOptions) {
    this.index = opts.index ?? indexCity(opts.city);
    this.policy = opts.policy;
    this.seed = (opts.seed ?? opts.city.seed) >>> 0;
    this.#now = opts.start;
    this.#stepMs = (opts.stepMin ?? 5) * MINUTE_MS;
    this.#weather = { meanC: Number.NaN, dailyAmplitudeC: 4, variation: true, ...opts.weather };
    this.#phases = [0, 1, 2].map((i) => (hash32(`phase${i}`, this.seed) / 2 ** 32) * 2 * Math.PI);
    for (const f of opts.faults ?? []) this.injectFault(f);

    const city = this.index.city;
    const aptsPerStation = new Map<string, number>();
    for (const a of city.apartments) {
      const st = this.index.buildings.get(a.buildingId)!.stationId;
      aptsPerStation.set(st, (aptsPerStation.get(st) ?? 0) + 1);
    }
    for (const s of city.stations) {
      const key = hash32(s.id, this.seed);
      const st: StationState = {
        id: s.id,
        sourceId: s.sourceId,
        key,
        // ~0.25 m³/h per household on the secondary side at design ΔT.
        nominalFlowM3h: Math.max(5, (aptsPerStation.get(s.id) ?? 100) * 0.25),
        pumpHz: PHYSICS.nominalPumpHz + noise(key, 1) * 3,
        makeupM3h: 0.2 + noise(key, 2) * 0.15,
        heatTotalGJ: 5000 + (noise(key, 3) + 1) * 20000,
        outdoor: 0,
        setpoint: 0,
        primarySupply: 0,
        secondarySupply: 0,
        secondaryReturn: 0,
        valvePct: 0,
        flowFrac: 1,
        heatKW: 0,
        leakM3h: 0,
      };
      this.#stations.set(s.id, st);
      this.#stationList.push(st);
    }
    for (const d of city.devices) {
      if (d.kind !== 'room_sensor' || !d.roomId || this.#roomIdx.has(d.roomId)) continue;
      const room = this.index.rooms.get(d.roomId);
      const apt = room && this.index.apartments.get(room.apartmentId);
      const b = apt && this.index.buildings.get(apt.buildingId);
      if (!room || !apt || !b) continue;
      const i = this.#roomIds.length;
      this.#roomIdx.set(room.id, i);
      this.#roomIds.push(room.id);
      this.#roomApt.push(apt.id);
      this.#roomBuilding.push(b.id);
      this.#roomEntrance.push(apt.entrance);
      this.#roomStation.push(this.#stations.get(b.stationId)!);
    }
    const n = this.#roomIds.length;
    this.#ratio = new Float64Array(n);
    this.#mass = new Float64Array(n);
    this.#air = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const apt = this.index.apartments.get(this.#roomApt[i]!)!;
      const b = this.index.buildings.get(apt.buildingId)!;
      const edgeFloor = apt.floor === 1 || apt.floor === b.floors;
      const endUnit = apt.unit === 1 || apt.unit === b.unitsPerFloor;
      // Radiators are sized per room, but exposed flats end up slightly under-supplied.
      const exposure = edgeFloor && endUnit ? 0.93 : edgeFloor || endUnit ? 0.965 : 1;
      const aptVar = 1 + noise(hash32(apt.id, this.seed), 7) * 0.05;
      const roomVar = 1 + noise(hash32(this.#roomIds[i]!, this.seed), 8) * 0.02;
      this.#ratio[i] = PHYSICS.radiatorRatio * exposure * aptVar * roomVar;
    }
    // Steady state at the start.
    this.#updateStations(this.#now, 0);
    for (let i = 0; i < n; i++) {
      const eq = this.#massEquilibrium(i, this.#now);
      this.#mass[i] = eq.t;
      this.#air[i] = this.#airEquilibrium(i, this.#now);
    }
  }

  get now(): number {
    return this.#now;
  }

  injectFault(spec: FaultSpec): void {
    const from = typeof spec.at === 'number' ? spec.at : Date.parse(spec.at);
    if (!Number.isFinite(from)) throw new RangeError(`fault ${spec.kind}: bad time ${String(spec.at)}`);
    const to = spec.durationMin === undefined ? Number.POSITIVE_INFINITY : from + spec.durationMin * MINUTE_MS;
    this.#faults.push({ spec, from, to });
  }

  get faults(): readonly FaultSpec[] {
    return this.#faults.map((f) => f.spec);
  }

  /**
   * Integrate up to `ts` (never backwards) in whole steps: the state lives on a grid of
   * `stepMin` from the start, so many devices reading at scattered times cost one update per
   * step, not one per reading. Readings between grid points see the last grid state.
   */
  step(ts: number): void {
    while (this.#now + this.#stepMs <= ts) {
      const next = this.#now + this.#stepMs;
      const dtH = this.#stepMs / HOUR_MS;
      this.#updateStations(next, dtH);
      const airK = 1 - Math.exp((-dtH * 60) / PHYSICS.airTauMin);
      for (let i = 0; i < this.#mass.length; i++) {
        const eq = this.#massEquilibrium(i, next);
        this.#mass[i] = eq.t + (this.#mass[i]! - eq.t) * Math.exp((-dtH * eq.cond) / PHYSICS.massCapacityH);
        const a = this.#airEquilibrium(i, next);
        this.#air[i] = this.#air[i]! + (a - this.#air[i]!) * airK;
      }
      this.#now = next;
    }
  }

  /** Outdoor temperature, °C: seasonal mean, day–night cycle, multi-day weather, cold snaps. */
  outdoorTemp(ts: number): number {
    const w = this.#weather;
    const local = ts + this.policy.utcOffsetMinutes * MINUTE_MS;
    const dayOfYear = (local / 86_400_000) % 365.2425; // days since epoch mod year ≈ day of year
    const seasonal = Number.isNaN(w.meanC) ? 9 - 12 * Math.cos((2 * Math.PI * (dayOfYear - 20)) / 365.2425) : w.meanC;
    const hour = (local / HOUR_MS) % 24;
    // Coldest around 06:00, warmest mid-afternoon.
    const daily = -w.dailyAmplitudeC * Math.cos((2 * Math.PI * (hour - 6)) / 24 - 0.35 * Math.sin((2 * Math.PI * (hour - 6)) / 24));
    let variation = 0;
    if (w.variation) {
      const days = ts / 86_400_000;
      variation =
        2.5 * Math.sin((2 * Math.PI * days) / 3.1 + this.#phases[0]!) +
        2 * Math.sin((2 * Math.PI * days) / 5.3 + this.#phases[1]!) +
        1.5 * Math.sin((2 * Math.PI * days) / 8.7 + this.#phases[2]!);
    }
    let snap = 0;
    for (const f of this.#faults) {
      if (f.spec.kind !== 'cold_snap' || ts < f.from - 0 || ts > f.to + 6 * HOUR_MS) continue;
      // Fronts arrive over ~6 h and leave over ~6 h.
      const rampMs = 6 * HOUR_MS;
      const inFrac = Math.min(1, (ts - f.from) / rampMs);
      const outFrac = f.to === Number.POSITIVE_INFINITY ? 1 : Math.min(1, Math.max(0, (f.to + rampMs - ts) / rampMs));
      const k = Math.max(0, Math.min(inFrac, outFrac));
      snap -= f.spec.depthC * (0.5 - 0.5 * Math.cos(Math.PI * k));
    }
    return seasonal + daily + variation + snap;
  }

  /**
   * Heating curve setpoint (policy.station curve, the same function the rules check against).
   * It is clamped at the design outdoor temperature (N3): colder than that the plant is at
   * capacity and rooms may fall short, which N3 exempts.
   */
  curveSetpoint(outdoorC: number): number {
    return heatingCurveSetpointC(outdoorC, this.policy);
  }

  /** Move a station's heating curve by `offsetC` (an engineer applying curve advice; 0 = as configured). */
  setCurveOffset(stationId: string, offsetC: number): void {
    if (!this.#stations.has(stationId)) throw new RangeError(`unknown station ${stationId}`);
    this.#curveOffset.set(stationId, offsetC);
  }

  #active(ts: number, kind: FaultKind, match: (s: FaultSpec) => boolean): FaultSpec | undefined {
    for (const f of this.#faults) if (f.spec.kind === kind && ts >= f.from && ts < f.to && match(f.spec)) return f.spec;
    return undefined;
  }

  #updateStations(ts: number, dtH: number): void {
    const outdoor = this.outdoorTemp(ts);
    const p = this.policy.station;
    for (const st of this.#stationList) {
      const setpoint = this.curveSetpoint(outdoor) + (this.#curveOffset.get(st.id) ?? 0);
      // Primary supply follows the source's own curve: design 130 °C at design outdoor (CJJ 34), ~75 °C in mild weather.
      let primary = clamp(
        75 + ((p.designPrimarySupplyC - 75) * (5 - outdoor)) / (5 - this.policy.comfort.designOutdoorC),
        70,
        p.designPrimarySupplyC,
      );
      const drop = this.#active(ts, 'heat_source_drop', (s) => s.kind === 'heat_source_drop' && s.sourceId === st.sourceId);
      if (drop && drop.kind === 'heat_source_drop') primary -= drop.dropC ?? 45;
      const pumpDown = this.#active(ts, 'pump_failure', (s) => s.kind === 'pump_failure' && s.stationId === st.id);
      const stuck = this.#active(ts, 'stuck_valve', (s) => s.kind === 'stuck_valve' && s.stationId === st.id);
      const leak = this.#active(ts, 'leak', (s) => s.kind === 'leak' && s.stationId === st.id);
      // Secondary ΔT grows with supply temperature; return = supply − ΔT = 0.75·S + 5.
      const need = (0.25 * (setpoint - 20)) / (PHYSICS.exchangerEff * Math.max(1, primary - (0.75 * setpoint + 5)));
      let valve = stuck && stuck.kind === 'stuck_valve' ? stuck.valvePct / 100 : Math.min(1, need);
      let supply: number;
      if (valve >= need) supply = setpoint;
      else supply = (PHYSICS.exchangerEff * valve * (primary - 5) + 5) / (0.25 + 0.75 * PHYSICS.exchangerEff * valve);
      let flowFrac = 1;
      if (pumpDown) {
        // No circulation: the controller sees the local sensor overheat and throttles.
        flowFrac = 0.03;
        valve = 0.08;
      }
      st.outdoor = outdoor;
      st.setpoint = setpoint;
      st.primarySupply = primary;
      st.secondarySupply = supply;
      st.secondaryReturn = supply - 0.25 * (supply - 20);
      st.valvePct = valve * 100;
      st.flowFrac = flowFrac;
      st.heatKW = st.nominalFlowM3h * flowFrac * (supply - st.secondaryReturn) * 1.163;
      st.leakM3h = leak && leak.kind === 'leak' ? (leak.makeupM3h ?? 6) : 0;
      st.heatTotalGJ += st.heatKW * dtH * 0.0036;
    }
  }

  #aptFactor(i: number, ts: number): number {
    const apt = this.#roomApt[i]!;
    let f = 1;
    if (this.#active(ts, 'air_lock', (s) => s.kind === 'air_lock' && s.apartmentId === apt)) f *= 0.12;
    if (this.#active(ts, 'blocked_strainer', (s) => s.kind === 'blocked_strainer' && s.apartmentId === apt)) f *= 0.25;
    const b = this.#roomBuilding[i]!;
    const riser = this.#active(
      ts,
      'riser_imbalance',
      (s) => s.kind === 'riser_imbalance' && s.buildingId === b && (s.entrance === undefined || s.entrance === this.#roomEntrance[i]),
    );
    if (riser && riser.kind === 'riser_imbalance') f *= riser.factor ?? 0.4;
    return f;
  }

  #windowOpen(i: number, ts: number): boolean {
    const room = this.#roomIds[i]!;
    return this.#active(ts, 'window_open', (s) => s.kind === 'window_open' && s.roomId === room) !== undefined;
  }

  #massEquilibrium(i: number, ts: number): { t: number; cond: number } {
    const st = this.#roomStation[i]!;
    // Without circulation the radiators go cold: heat delivered scales steeply with flow.
    const a = this.#ratio[i]! * this.#aptFactor(i, ts) * Math.pow(st.flowFrac, 0.6);
    const meanWater = st.secondarySupply - 0.125 * (st.secondarySupply - 20);
    const w = this.#windowOpen(i, ts) ? 1.5 : 1;
    const cond = a + w + PHYSICS.neighbourG;
    return { t: (a * meanWater + w * st.outdoor + PHYSICS.neighbourG * PHYSICS.neighbourC) / cond, cond };
  }

  #airEquilibrium(i: number, ts: number): number {
    const m = this.#mass[i]!;
    return this.#windowOpen(i, ts) ? m - PHYSICS.windowAirLoss * (m - this.#roomStation[i]!.outdoor) : m;
  }

  /** True room air temperature of a sensor room, °C (NaN for rooms without a sensor). */
  roomTemp(roomId: string): number {
    const i = this.#roomIdx.get(roomId);
    return i === undefined ? Number.NaN : this.#air[i]!;
  }

  /** Simulated sensor rooms. */
  get roomIds(): readonly string[] {
    return this.#roomIds;
  }

  /** A station meter's values now (true values plus instrument noise). */
  stationValues(stationId: string): Omit<StationMeterPayload, 'ts'> {
    const st = this.#stations.get(stationId);
    if (!st) throw new RangeError(`unknown station ${stationId}`);
    const n = (k: number, amp: number): number => noise(st.key, Math.floor(this.#now / MINUTE_MS) * 31 + k) * amp;
    const primaryReturn = st.flowFrac < 0.5 ? st.primarySupply - 8 : st.secondaryReturn + 4;
    const primaryDelta = Math.max(1, st.primarySupply - primaryReturn);
    const pumpOn = st.flowFrac > 0.5;
    const leaking = st.leakM3h > 0;
    return {
      primarySupplyTemp: r2(st.primarySupply + n(1, 0.3)),
      primaryReturnTemp: r2(primaryReturn + n(2, 0.3)),
      secondarySupplyTemp: r2((pumpOn ? st.secondarySupply : st.secondaryReturn + 2) + n(3, 0.2)),
      secondaryReturnTemp: r2((pumpOn ? st.secondaryReturn : st.secondaryReturn - 5) + n(4, 0.2)),
      primarySupplyPressure: r3(0.85 + n(5, 0.01)),
      primaryReturnPressure: r3(0.45 + n(6, 0.01)),
      secondarySupplyPressure: r3((leaking ? 0.14 : pumpOn ? 0.42 : 0.3) + n(7, 0.005)),
      secondaryReturnPressure: r3((leaking ? 0.09 : pumpOn ? 0.28 : 0.29) + n(8, 0.005)),
      primaryFlow: r2(st.heatKW / (1.163 * primaryDelta)),
      secondaryFlow: r2(st.nominalFlowM3h * st.flowFrac * (1 + n(9, 0.01))),
      makeupFlow: r3(Math.max(0, (leaking ? st.leakM3h : st.makeupM3h) + n(10, 0.03))),
      heatPower: r2(Math.max(0, st.heatKW)),
      heatTotal: r3(st.heatTotalGJ),
      pumpHz: r2(pumpOn ? st.pumpHz + n(11, 0.2) : 0),
      valvePct: r2(clamp(st.valvePct + n(12, 0.3), 0, 100)),
      outdoorTemp: r2(st.outdoor + n(13, 0.2)),
    };
  }

  /** What a device would publish now (the model must have been stepped to `ts`). */
  readDevice(deviceId: string, ts: number = this.#now): DeviceOutput {
    const d = this.index.devices.get(deviceId);
    if (!d) return { deliver: 'drop' };
    const off = this.#active(ts, 'sensor_offline', (s) => s.kind === 'sensor_offline' && s.deviceId === deviceId);
    const deliver: 'now' | 'buffer' | 'drop' = !off ? 'now' : off.kind === 'sensor_offline' && off.backlog ? 'buffer' : 'drop';
    if (deliver === 'drop') return { deliver };
    if (d.kind === 'station_meter') return { deliver, payload: this.stationValues(d.stationId!) };
    if (d.kind !== 'room_sensor') return { deliver: 'drop' };
    const key = hash32(deviceId, this.seed);
    const stuck = this.#active(ts, 'sensor_stuck', (s) => s.kind === 'sensor_stuck' && s.deviceId === deviceId);
    if (stuck) {
      const frozen = this.#stuck.get(deviceId);
      if (frozen) return { deliver, payload: frozen };
    } else this.#stuck.delete(deviceId);
    const tick = Math.floor(ts / MINUTE_MS);
    const air = this.roomTemp(d.roomId!);
    const offset = noise(key, 1) * 0.3; // calibration offset, within N31's instrument error
    let bat = 3.0 + (noise(key, 2) + 1) * 0.3 - ((ts - this.#startOfYear(ts)) / 86_400_000) * 0.0008;
    const dying = this.#faults.find((f) => f.spec.kind === 'battery_dying' && f.spec.deviceId === deviceId && ts >= f.from);
    if (dying) {
      const span = Math.max(1, (Number.isFinite(dying.to) ? dying.to : dying.from + 48 * HOUR_MS) - dying.from);
      const k = Math.min(1, (ts - dying.from) / span);
      bat = bat + (2.3 - bat) * k;
    }
    const payload = {
      temp: r2(air + offset + noise(key, tick) * 0.12),
      rh: r2(clamp(35 + noise(key, 3) * 8 + noise(key, tick + 7) * 1.5, 5, 95)),
      bat: r2(Math.max(2, bat)),
      rssi: Math.round(-85 + noise(key, 4) * 15 + noise(key, tick + 11) * 3),
    };
    if (stuck) this.#stuck.set(deviceId, payload);
    return { deliver, payload };
  }

  /** Battery drain is counted from 1 Nov of the heating season a timestamp falls in. */
  #startOfYear(ts: number): number {
    const d = new Date(ts);
    const y = d.getUTCMonth() >= 10 ? d.getUTCFullYear() : d.getUTCFullYear() - 1;
    return Date.UTC(y, 10, 1);
  }
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const r2 = (x: number): number => Math.round(x * 100) / 100;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
