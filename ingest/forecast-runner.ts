/**
 * The forecaster beside the rules engine (issue #20): the same stored readings go to a
 * ForecastRunner (domain/forecast), the engine's incident events go to it too (a real
 * apartment_cold confirms a prediction), and on a timer it takes the newest weather forecasts
 * from the forecast store (what the API accepted over REST or MQTT) and moves its watermark, so
 * `predicted_cold` incidents open and close on live data and go out on the incidents topic like
 * the engine's — the API opens a proactive order from them.
 *
 * The watermark is the rules runner's: event time while readings flow; on a quiet stream the
 * newest event time moved on by the wall time since the last arrival, less the allowed
 * lateness. At start (and when the registry's topology changes) the runner is rebuilt from the
 * stored hourly history, so a restart forecasts again at once instead of after `minFitHours`;
 * predictions still open after that warm-up are published again (the API takes one it already
 * has as a duplicate).
 *
 * Not covered by the rules snapshot: a predicted_cold lost in a crash between the runner and the
 * broker's PUBACK is re-derived by the next round if the forecast still says so.
 */
import type { Logger } from 'pino';
import { HOUR_MS, type Clock } from '../domain/clock.ts';
import { ForecastRunner } from '../domain/forecast/forecast.runner.ts';
import { warmUp } from '../domain/forecast/warm-up.ts';
import type { WeatherForecast } from '../domain/forecast/weather.schema.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import type { Reading } from '../domain/reading.ts';
import type { City } from '../domain/topology.schema.ts';
import { eventWatermark } from './event.watermark.ts';

export interface ForecastLoopDeps {
  readonly city: () => City;
  readonly policy: HeatingPolicy;
  /** Whose forecasts to read (config.city). */
  readonly policyCity: string;
  readonly forecasts: { latest(city: string, stationId?: string): Promise<WeatherForecast | undefined> };
  /** Stored hourly history for the warm-up (storage/readings/forecast.history.ts); absent: start cold. */
  readonly history?: (city: City, from: number, to: number) => Promise<Reading[]>;
  readonly historyHours?: number;
  readonly publishIncident: (e: IncidentEvent) => Promise<boolean>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Forecast rounds and store polls, ms (wall clock). */
  readonly everyMs: number;
  readonly watermarkLatenessMs: number;
  readonly topologyVersion?: () => number;
}

export class ForecastLoop {
  readonly #d: ForecastLoopDeps;
  #runner: ForecastRunner | undefined;
  /** Readings that arrived while the runner was being rebuilt, fed to it afterwards. */
  #buffer: Reading[] = [];
  #building: Promise<void> | undefined;
  #maxEventTs = Number.NEGATIVE_INFINITY;
  #lastArrival: number;
  #topologySeen: number;
  #forecastsSeen = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  readonly counters = { rounds: 0, published: 0, forecastsTaken: 0, errors: 0 };

  constructor(d: ForecastLoopDeps) {
    this.#d = d;
    this.#lastArrival = d.clock.now();
    this.#topologySeen = d.topologyVersion?.() ?? 0;
  }

  /** Build the runner (warm from history), then tick every `everyMs`. */
  async start(): Promise<void> {
    await this.#rebuild();
    this.#timer = setInterval(() => void this.tick(), this.#d.everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  get runner(): ForecastRunner | undefined {
    return this.#runner;
  }

  /** Stored readings, as the rules get them. */
  readings(rs: readonly Reading[]): void {
    if (rs.length === 0) return;
    this.#lastArrival = this.#d.clock.now();
    for (const r of rs) if (r.ts > this.#maxEventTs) this.#maxEventTs = r.ts;
    if (!this.#runner || this.#building) {
      this.#buffer.push(...rs);
      return;
    }
    this.#feed(rs);
  }

  /** The rules engine's events: a real cold incident confirms a prediction. */
  engineEvents(evs: readonly IncidentEvent[]): void {
    if (!this.#runner) return;
    try {
      this.#publish(this.#runner.observe(evs));
    } catch (e) {
      this.#error(e, 'forecaster failed on engine events');
    }
  }

  /** One round: topology, newest forecasts, watermark. Never throws. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const v = this.#d.topologyVersion?.() ?? this.#topologySeen;
      if (v !== this.#topologySeen) {
        this.#topologySeen = v;
        await this.#rebuild();
      }
      await this.#building;
      const runner = this.#runner;
      if (!runner) return;
      await this.#takeForecasts(runner);
      const w = this.#watermark();
      if (Number.isFinite(w)) this.#publish(runner.advanceTo(w));
      this.counters.rounds++;
    } catch (e) {
      this.#error(e, 'forecast round failed');
    } finally {
      this.#ticking = false;
    }
  }

  #feed(rs: readonly Reading[]): void {
    const runner = this.#runner!;
    // Event-time order, so each hour's bins and the stations' live state see them as they happened.
    const sorted = [...rs].sort((a, b) => a.ts - b.ts);
    for (const r of sorted) {
      try {
        runner.ingest(r);
      } catch (e) {
        this.#error(e, 'forecaster failed on a reading');
      }
    }
  }

  async #takeForecasts(runner: ForecastRunner): Promise<void> {
    const { forecasts, policyCity } = this.#d;
    const take = (key: string, f: WeatherForecast | undefined) => {
      if (!f || this.#forecastsSeen.get(key) === f.issuedAt) return;
      this.#forecastsSeen.set(key, f.issuedAt);
      runner.setForecast(f);
      this.counters.forecastsTaken++;
    };
    take('', await forecasts.latest(policyCity));
    for (const s of runner.city.stations) take(s.id, await forecasts.latest(policyCity, s.id));
  }

  #rebuild(): Promise<void> {
    const run = async () => {
      const city = this.#d.city();
      const runner = new ForecastRunner({ city, policy: this.#d.policy });
      const now = this.#d.clock.now();
      if (this.#d.history) {
        const to = Math.floor(now / HOUR_MS) * HOUR_MS;
        const from = to - (this.#d.historyHours ?? 14 * 24) * HOUR_MS;
        try {
          warmUp(runner, await this.#d.history(city, from, to));
        } catch (e) {
          this.#error(e, 'forecast warm-up from history failed; starting cold');
        }
      }
      this.#forecastsSeen = new Map();
      this.#runner = runner;
      const buffered = this.#buffer;
      this.#buffer = [];
      this.#feed(buffered);
      this.#publish(runner.tracker.openIncidents().map((incident) => ({ type: 'opened' as const, at: incident.startTs, incident })));
      this.#d.logger.info(
        { apartments: runner.ix.aptIds.length, ready: runner.fits.filter((f) => f.hours >= runner.o.minFitHours).length },
        'forecaster ready',
      );
    };
    this.#building = run().finally(() => (this.#building = undefined));
    return this.#building;
  }

  #watermark(): number {
    return eventWatermark(this.#maxEventTs, this.#lastArrival, this.#d.clock.now(), this.#d.watermarkLatenessMs);
  }

  #publish(events: readonly IncidentEvent[]): void {
    for (const e of events) {
      this.counters.published++;
      void this.#d.publishIncident(e).then(
        (ok) => {
          if (!ok) this.#d.logger.warn({ incidentId: e.incident.id }, 'predicted_cold not acknowledged by the broker');
        },
        (err: unknown) => this.#error(err, 'predicted_cold publish failed'),
      );
    }
  }

  #error(e: unknown, msg: string): void {
    this.counters.errors++;
    this.#d.logger.error({ err: String(e) }, msg);
  }
}
