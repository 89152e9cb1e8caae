/**
 * The simulated city's weather service (issue #20): every hour of the platform clock it issues
 * a forecast of the thermal model's own outdoor temperature with realistic error
 * (forecast.weather.ts: a per-issue bias and a wandering error, both growing with lead time)
 * and publishes it on `topics.forecast` at QoS 1 from a service account, exactly as an outside
 * weather feed would. The API validates and stores it like any other forecast; the ingest's
 * forecaster takes it from the store. Nothing here reaches into the platform.
 *
 * It runs with the demo day (start.ts), whose fleet lives on the platform clock (1×), so the
 * forecast's hours and the devices' readings share one time line. While the demo clock
 * pre-rolls the morning, each hour it passes gets its forecast too (checked every `checkMs` of
 * wall time, far shorter than the pre-roll takes to cross an hour).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { HOUR_MS, type Clock } from '../domain/clock.ts';
import { topics } from '../domain/topics.ts';
import { simulatedForecast, type ForecastErrorOptions } from './forecast.weather.ts';
import type { FleetLogger } from './fleet.ts';

export interface ForecastPublisherOptions {
  readonly mqttUrl: string;
  /** A service account whose scope may publish on topics.forecast (svc-sim: replay). */
  readonly username: string;
  readonly password: string;
  readonly clientId?: string;
  /** Policy city the platform serves (config.city): the API refuses another city's forecast. */
  readonly policyCity: string;
  /** The truth: the model's outdoor temperature at an epoch ms, °C. */
  readonly outdoor: (ts: number) => number;
  readonly clock: Clock;
  /** Seed of the forecast errors (each issue hour mixes it with its own hour). */
  readonly seed: number;
  /** Hours ahead per issue. Default 48 (the forecaster looks 24 h ahead; the map's "tomorrow" needs the next day whole). */
  readonly hours?: number;
  /** Wall-time interval between checks of the clock's hour, ms. Default 2000. */
  readonly checkMs?: number;
  readonly error?: ForecastErrorOptions;
  readonly logger?: FleetLogger;
}

export interface ForecastPublisherStats {
  readonly published: number;
  readonly failed: number;
  /** Issue hour of the newest forecast the broker acknowledged, epoch ms (NaN before the first). */
  readonly lastIssuedAt: number;
}

export interface ForecastPublisher {
  /** Publish the current hour's forecast if it has not gone out yet; true when one was acknowledged. */
  tick(): Promise<boolean>;
  stats(): ForecastPublisherStats;
  stop(): Promise<void>;
}

export function startForecastPublisher(o: ForecastPublisherOptions): ForecastPublisher {
  const hours = o.hours ?? 48;
  const log = o.logger;
  let published = 0;
  let failed = 0;
  let lastIssuedAt = Number.NaN;
  let busy = false;
  let stopped = false;
  const client: MqttClient = mqtt.connect(o.mqttUrl, {
    clientId: o.clientId ?? `${o.username}-forecast`,
    username: o.username,
    password: o.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 2000,
  });
  // Connection trouble is retried by MQTT.js; a forecast missed while down goes out at the next check.
  client.on('error', (err) => log?.warn({ err: String(err) }, 'forecast publisher: connection error'));

  const tick = async (): Promise<boolean> => {
    if (busy || stopped || !client.connected) return false;
    const now = o.clock.now();
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    if (hour <= lastIssuedAt) return false;
    busy = true;
    try {
      const f = simulatedForecast(o.outdoor, { city: o.policyCity, issuedAt: now, hours, seed: o.seed, error: o.error });
      // The public wire form: an ISO issue time, hours as epoch ms (weather.schema.ts takes either).
      const body = { ...f, issuedAt: new Date(f.issuedAt).toISOString() };
      await client.publishAsync(topics.forecast, JSON.stringify(body), { qos: 1 });
      lastIssuedAt = hour;
      published++;
      log?.debug({ issuedAt: body.issuedAt, hours: f.hours.length }, 'forecast published');
      return true;
    } catch (err) {
      failed++;
      log?.warn({ err: String(err) }, 'forecast publish failed; retried at the next check');
      return false;
    } finally {
      busy = false;
    }
  };

  client.on('connect', () => void tick());
  const timer = setInterval(() => void tick(), o.checkMs ?? 2000);
  timer.unref?.();

  return {
    tick,
    stats: () => ({ published, failed, lastIssuedAt }),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await client.endAsync();
    },
  };
}
