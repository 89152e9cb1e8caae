/**
 * What the engineer's replay runs leave behind, kept in memory so a run outlives the page that
 * started it: status and progress, the run's own (sandboxed) city, its incidents as the rules
 * opened and resolved them, and the latest value of every meter and room it replayed — enough
 * for the dashboard to draw the run's city in the same map, station and building views.
 *
 * Bounded: the last `keep` runs, each at most one value per device and one entry per incident,
 * and a bucketed meter series per station (replay.series.ts).
 */
import type { Incident, IncidentEvent } from '../domain/incident.schema.ts';
import type { Reading } from '../domain/reading.ts';
import type { LocalizedText, ReplayCity, ReplayRun, ReplayStation, ReplayStatus } from '../domain/replay.schema.ts';
import type { City } from '../domain/topology.schema.ts';
import { RunSeries } from './replay.series.ts';

interface RunRecord {
  run: ReplayRun;
  readonly city: City;
  readonly standardC: number;
  readonly incidents: Map<string, Incident>;
  readonly meters: Map<string, { ts: number; fields: Record<string, number> }>;
  /** apartment → room → latest temperature. */
  readonly rooms: Map<string, Map<string, number>>;
  readonly aptStation: Map<string, string>;
  /** Each meter's series for the station view's charts (bounded, replay.series.ts). */
  readonly series: RunSeries;
}

export class ReplayRuns {
  readonly #runs = new Map<string, RunRecord>();
  constructor(private readonly keep = 10) {}

  add(input: {
    id: string;
    scenario?: string;
    file?: string;
    title: LocalizedText;
    speed: number;
    startedAt: number;
    city: City;
    standardC: number;
    fromTs: number;
  }): void {
    const aptStation = new Map<string, string>();
    const bStation = new Map(input.city.buildings.map((b) => [b.id, b.stationId]));
    for (const a of input.city.apartments) aptStation.set(a.id, bStation.get(a.buildingId) ?? '');
    this.#runs.set(input.id, {
      run: {
        id: input.id,
        ...(input.scenario ? { scenario: input.scenario } : {}),
        ...(input.file ? { file: input.file } : {}),
        title: input.title,
        speed: input.speed,
        startedAt: input.startedAt,
        status: 'running',
        done: 0,
        total: 1000,
        eventTs: input.fromTs,
        readings: 0,
        incidents: 0,
        open: 0,
      },
      city: input.city,
      standardC: input.standardC,
      incidents: new Map(),
      meters: new Map(),
      rooms: new Map(),
      aptStation,
      series: new RunSeries(),
    });
    // Oldest first out.
    while (this.#runs.size > this.keep) this.#runs.delete(this.#runs.keys().next().value!);
  }

  reading(id: string, r: Reading): void {
    const rec = this.#runs.get(id);
    if (!rec) return;
    if (r.kind === 'station_meter' && r.stationId) {
      const m = rec.meters.get(r.stationId);
      if (!m || r.ts >= m.ts) rec.meters.set(r.stationId, { ts: r.ts, fields: { ...m?.fields, ...r.fields } });
      rec.series.add(r.stationId, r.ts, r.fields);
    } else if (r.apartmentId && typeof r.fields.temp === 'number') {
      let rooms = rec.rooms.get(r.apartmentId);
      if (!rooms) rec.rooms.set(r.apartmentId, (rooms = new Map()));
      rooms.set(r.roomId ?? r.deviceId, r.fields.temp);
    }
  }

  incident(id: string, e: IncidentEvent): void {
    const rec = this.#runs.get(id);
    if (!rec) return;
    rec.incidents.set(e.incident.id, e.incident);
  }

  progress(id: string, p: { done: number; total: number; etaMs?: number; eventTs: number; readings: number; open: number }): void {
    const rec = this.#runs.get(id);
    if (!rec) return;
    const { etaMs: _e, ...run } = rec.run;
    rec.run = { ...run, ...p, incidents: rec.incidents.size, ...(p.etaMs !== undefined ? { etaMs: p.etaMs } : {}) };
  }

  finish(id: string, status: Exclude<ReplayStatus, 'running'>, error?: string): void {
    const rec = this.#runs.get(id);
    if (!rec) return;
    const { etaMs: _e, ...run } = rec.run;
    rec.run = {
      ...run,
      status,
      done: rec.run.total,
      incidents: rec.incidents.size,
      open: this.#open(rec).length,
      ...(error ? { error } : {}),
    };
  }

  list(): ReplayRun[] {
    return [...this.#runs.values()].map((r) => r.run).reverse();
  }

  get(id: string): ReplayRun | undefined {
    return this.#runs.get(id)?.run;
  }

  city(id: string): ReplayCity | undefined {
    const rec = this.#runs.get(id);
    if (!rec) return undefined;
    const counts: Record<string, { monitored: number; cold: number }> = {};
    for (const s of rec.city.stations) counts[s.id] = { monitored: 0, cold: 0 };
    for (const [apt, value] of this.#values(rec)) {
      const c = counts[rec.aptStation.get(apt) ?? ''];
      if (!c) continue;
      c.monitored++;
      if (value < rec.standardC) c.cold++; // N2
    }
    const incidents = this.#open(rec);
    return {
      run: rec.run,
      stations: [...rec.city.stations],
      sources: [...rec.city.sources],
      incidents,
      counts,
      subjects: this.#subjects(rec, incidents),
    };
  }

  station(id: string, stationId: string): ReplayStation | undefined {
    const rec = this.#runs.get(id);
    const station = rec?.city.stations.find((s) => s.id === stationId);
    if (!rec || !station) return undefined;
    const buildings = rec.city.buildings.filter((b) => b.stationId === stationId);
    const inStation = new Set(buildings.map((b) => b.id));
    const apartments = rec.city.apartments.filter((a) => inStation.has(a.buildingId));
    const values: Record<string, number> = {};
    for (const [apt, v] of this.#values(rec)) if (rec.aptStation.get(apt) === stationId) values[apt] = Math.round(v * 100) / 100;
    const meter = rec.meters.get(stationId);
    const series = rec.series.of(stationId);
    return {
      run: rec.run,
      station,
      buildings,
      apartments,
      ...(meter ? { meter } : {}),
      ...(series ? { series } : {}),
      apartmentValues: values,
      incidents: [...rec.incidents.values()]
        .filter((i) => i.stationId === stationId || (i.subjectType === 'station' && i.subjectId === stationId))
        .sort((a, b) => b.startTs - a.startTs),
    };
  }

  /** Names for the incidents' subjects, as the dashboard names live ones (lib/names.svelte.ts). */
  #subjects(rec: RunRecord, incidents: readonly Incident[]): Record<string, string> {
    const out: Record<string, string> = {};
    const want = new Set(incidents.map((i) => i.subjectId));
    for (const s of rec.city.stations) if (want.has(s.id)) out[s.id] = s.name;
    for (const s of rec.city.sources) if (want.has(s.id)) out[s.id] = s.name;
    const address = new Map(rec.city.buildings.map((b) => [b.id, b.address]));
    for (const [id, a] of address) if (want.has(id)) out[id] = a;
    const flat = new Map(rec.city.apartments.map((a) => [a.id, `${address.get(a.buildingId) ?? a.buildingId} ${a.number}`]));
    for (const [id, name] of flat) if (want.has(id)) out[id] = name;
    for (const r of rec.city.rooms) if (want.has(r.id)) out[r.id] = `${flat.get(r.apartmentId) ?? r.apartmentId} ${r.name}`;
    return out;
  }

  #open(rec: RunRecord): Incident[] {
    return [...rec.incidents.values()].filter((i) => i.status === 'open').sort((a, b) => b.startTs - a.startTs);
  }

  *#values(rec: RunRecord): Generator<[string, number]> {
    for (const [apt, rooms] of rec.rooms) {
      let s = 0;
      for (const v of rooms.values()) s += v;
      yield [apt, s / rooms.size];
    }
  }
}
