/**
 * The live city the dispatcher watches: stations with their health, latest meter values and
 * open incidents, fed by REST once and by socket.io `readings` / `incident` events after.
 *
 * Built to hold a whole city (5,000 stations, 100,000 apartments): per-apartment values live
 * in plain Maps (no reactivity per apartment); only per-station counters are $state, so a
 * reading touches at most one station's fields and Svelte repaints just that marker.
 */
import type { LiveReading } from '../../../domain/events.ts';
import type { IncidentEvent } from '../../../domain/incident.schema.ts';
import type { Incident, StationInfo as Station } from './api.ts';
import type { HeatingPolicy } from './api.ts';
import { project, type XY } from './geo.ts';
import { healthOf, isHomeKind, isStationKind, type HealthLevel } from './health.ts';

export class StationState {
  readonly station: Station;
  readonly xy: XY;
  coldApartments = $state(0);
  monitoredApartments = $state(0);
  stationIncidents = $state(0);
  homeIncidents = $state(0);
  /** Latest station-meter fields (live). */
  latest = $state.raw<Readonly<Record<string, number>>>({});
  latestTs = $state(0);
  seen = $state(false);
  readonly policy: () => HeatingPolicy | undefined;

  level: HealthLevel = $derived.by(() => {
    const p = this.policy();
    return healthOf({
      stationIncidents: this.stationIncidents,
      homeIncidents: this.homeIncidents,
      coldApartments: this.coldApartments,
      monitoredApartments: this.monitoredApartments,
      hasData: this.seen,
      alarmColdShare: p?.grouping.stationColdShare, // N2 share grouped as in the rules engine
      minMonitored: p?.grouping.minMonitored,
    });
  });

  constructor(station: Station, policy: () => HeatingPolicy | undefined) {
    this.station = station;
    this.xy = project(station.location);
    this.policy = policy;
  }
}

interface AptLive {
  stationId: string | undefined;
  rooms: Map<string, number>;
  value: number;
  ts: number;
  cold: boolean;
}

export class CityState {
  stations = $state.raw<readonly StationState[]>([]);
  policy = $state.raw<HeatingPolicy | undefined>(undefined);
  /** Bumped once per applied batch of room readings: views of apartments re-read the maps. */
  apartmentsVersion = $state(0);
  /** Open incidents changed: lists re-read `openIncidents`. */
  incidentsVersion = $state(0);
  connected = $state(false);
  lastLiveAt = $state(0);

  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bulk live state: readers subscribe to the version counters above (one signal per batch, not one per apartment)
  readonly byId = new Map<string, StationState>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bulk live state: readers subscribe to the version counters above (one signal per batch, not one per apartment)
  private readonly bySource = new Map<string, StationState[]>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bulk live state: readers subscribe to the version counters above (one signal per batch, not one per apartment)
  private readonly apartments = new Map<string, AptLive>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bulk live state: readers subscribe to the version counters above (one signal per batch, not one per apartment)
  private readonly open = new Map<string, Incident>();

  setStations(list: readonly Station[]): void {
    this.byId.clear();
    this.bySource.clear();
    const policy = () => this.policy;
    const states = list.map((s) => new StationState(s, policy));
    for (const s of states) {
      this.byId.set(s.station.id, s);
      const arr = this.bySource.get(s.station.sourceId) ?? [];
      arr.push(s);
      this.bySource.set(s.station.sourceId, arr);
    }
    this.stations = states;
  }

  /** Latest apartment value (mean of its rooms' latest readings), °C. */
  apartmentValue(apartmentId: string): { value: number; ts: number; cold: boolean } | undefined {
    const a = this.apartments.get(apartmentId);
    return a ? { value: a.value, ts: a.ts, cold: a.cold } : undefined;
  }

  get openIncidents(): readonly Incident[] {
    return [...this.open.values()];
  }

  applyReadings(batch: readonly LiveReading[]): void {
    let rooms = false;
    const standard = this.policy?.comfort.standardC; // N2
    for (const r of batch) {
      if (r.kind === 'station_meter' && r.stationId) {
        const s = this.byId.get(r.stationId);
        if (s && r.ts >= s.latestTs) {
          s.latest = { ...s.latest, ...r.fields };
          s.latestTs = r.ts;
          s.seen = true;
        }
      } else if (r.kind === 'room_sensor' && r.apartmentId && typeof r.fields.temp === 'number') {
        rooms = true;
        this.applyRoom(r.apartmentId, r.roomId ?? r.deviceId, r.stationId, r.fields.temp, r.ts, standard);
      }
    }
    if (rooms) this.apartmentsVersion++;
    this.lastLiveAt = Date.now();
  }

  private applyRoom(
    aptId: string,
    roomId: string,
    stationId: string | undefined,
    temp: number,
    ts: number,
    standard: number | undefined,
  ): void {
    let a = this.apartments.get(aptId);
    const st = stationId ? this.byId.get(stationId) : undefined;
    if (!a) {
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bulk live state: readers subscribe to the version counters above (one signal per batch, not one per apartment)
      a = { stationId, rooms: new Map(), value: temp, ts, cold: false };
      this.apartments.set(aptId, a);
      if (st) {
        st.monitoredApartments++;
        st.seen = true;
      }
    }
    a.rooms.set(roomId, temp);
    let sum = 0;
    for (const v of a.rooms.values()) sum += v;
    a.value = sum / a.rooms.size;
    a.ts = Math.max(a.ts, ts);
    const cold = standard !== undefined && a.value < standard;
    if (cold !== a.cold) {
      a.cold = cold;
      if (st) st.coldApartments += cold ? 1 : -1;
    }
  }

  setIncidents(list: readonly Incident[]): void {
    this.open.clear();
    for (const i of list) if (i.status === 'open') this.open.set(i.id, i);
    this.recount();
  }

  applyIncident(e: IncidentEvent): void {
    if (e.incident.status === 'open' && e.type !== 'resolved') this.open.set(e.incident.id, e.incident);
    else this.open.delete(e.incident.id);
    this.recount();
  }

  /** Stations an incident bears on: its own station, or every station of a cold heat source. */
  private stationsOf(i: Incident): StationState[] {
    if (i.subjectType === 'source') return this.bySource.get(i.subjectId) ?? [];
    const id = i.stationId ?? (i.subjectType === 'station' ? i.subjectId : undefined);
    const s = id ? this.byId.get(id) : undefined;
    return s ? [s] : [];
  }

  private recount(): void {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a temporary of recount(), never stored
    const station = new Map<StationState, number>();
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a temporary of recount(), never stored
    const home = new Map<StationState, number>();
    for (const i of this.open.values()) {
      if (i.exempt) continue; // N3: recorded, not a fault to colour
      const target = isStationKind(i.kind) ? station : isHomeKind(i.kind) ? home : undefined;
      if (!target) continue;
      for (const s of this.stationsOf(i)) target.set(s, (target.get(s) ?? 0) + 1);
    }
    for (const s of this.stations) {
      const a = station.get(s) ?? 0;
      const b = home.get(s) ?? 0;
      if (s.stationIncidents !== a) s.stationIncidents = a;
      if (s.homeIncidents !== b) s.homeIncidents = b;
      if (a + b > 0) s.seen = true;
    }
    this.incidentsVersion++;
  }
}

/** The app's one live city. */
export const city = new CityState();
