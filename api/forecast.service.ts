/**
 * Forecast views for the API (issue #20): for one station, a ForecastRunner is rebuilt from the
 * stored history (hourly means of its rooms and meter over the last 14 days, the latest
 * weather forecasts) and asked for risk, curve advice and the balancing diagnosis. Rebuilt at
 * most once per station and hour; the runner's logic is the one the bench scores.
 */
import { HOUR_MS } from '../domain/clock.ts';
import { ForecastRunner } from '../domain/forecast/forecast.runner.ts';
import { warmUp } from '../domain/forecast/warm-up.ts';
import { stationAdvice, stationBalance, stationRisk } from '../domain/forecast/station.views.ts';
import type { WeatherForecast } from '../domain/forecast/weather.schema.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import type { City } from '../domain/topology.schema.ts';
import { hourlyHistory } from '../storage/readings/forecast.history.ts';
import type { ForecastStore } from '../storage/readings/forecast.store.ts';
import type { ReadingStore } from '../storage/readings/reading-store.ts';

const HISTORY_MS = 14 * 24 * HOUR_MS;

export interface ForecastServiceDeps {
  readonly city: () => City;
  readonly store: ReadingStore;
  readonly forecasts: ForecastStore;
  readonly policy: HeatingPolicy;
  readonly policyCity: string;
  readonly now: () => number;
}

/** The part of the city one station's forecast needs. */
function stationCity(city: City, stationId: string): City | undefined {
  const station = city.stations.find((s) => s.id === stationId);
  if (!station) return undefined;
  const buildings = city.buildings.filter((b) => b.stationId === stationId);
  const bIds = new Set(buildings.map((b) => b.id));
  const apartments = city.apartments.filter((a) => bIds.has(a.buildingId));
  const aIds = new Set(apartments.map((a) => a.id));
  const rooms = city.rooms.filter((r) => aIds.has(r.apartmentId));
  const rIds = new Set(rooms.map((r) => r.id));
  const devices = city.devices.filter(
    (d) =>
      (d.kind === 'station_meter' && d.stationId === stationId) ||
      (d.kind === 'room_sensor' && d.roomId !== undefined && rIds.has(d.roomId)),
  );
  return { ...city, stations: [station], buildings, apartments, rooms, devices };
}

export class ForecastService {
  readonly #cache = new Map<string, { hour: number; runner: ForecastRunner; forecast?: WeatherForecast }>();

  constructor(private readonly d: ForecastServiceDeps) {}

  async runner(stationId: string): Promise<{ runner: ForecastRunner; forecast?: WeatherForecast } | undefined> {
    const now = this.d.now();
    const hour = Math.floor(now / HOUR_MS);
    const hit = this.#cache.get(stationId);
    if (hit && hit.hour === hour) return hit;
    const city = stationCity(this.d.city(), stationId);
    if (!city) return undefined;
    const runner = new ForecastRunner({ city, policy: this.d.policy });
    const from = (hour - HISTORY_MS / HOUR_MS) * HOUR_MS;
    const to = hour * HOUR_MS;
    const readings = await hourlyHistory(this.d.store, city, this.d.policy, from, to);
    warmUp(runner, readings);
    const forecast = (await this.d.forecasts.latest(this.d.policyCity, stationId)) ?? (await this.d.forecasts.latest(this.d.policyCity));
    if (forecast) runner.setForecast(forecast);
    runner.advanceTo(to + runner.o.hourGraceMs);
    const entry = { hour, runner, ...(forecast ? { forecast } : {}) };
    this.#cache.set(stationId, entry);
    return entry;
  }

  /** Forget cached runners (a new forecast arrived). */
  invalidate(): void {
    this.#cache.clear();
  }

  async risk(stationId: string) {
    const r = await this.runner(stationId);
    if (!r) return undefined;
    return {
      stationId,
      origin: r.runner.origin,
      horizonH: r.runner.o.horizonH,
      forecastIssuedAt: r.forecast?.issuedAt ?? null,
      apartments: stationRisk(r.runner, stationId),
    };
  }

  async advice(stationId: string) {
    const r = await this.runner(stationId);
    return r && stationAdvice(r.runner, stationId);
  }

  async balance(stationId: string) {
    const r = await this.runner(stationId);
    return r && stationBalance(r.runner, stationId);
  }
}
