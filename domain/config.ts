/**
 * Platform configuration: the environment is read once, at start-up, in each service's
 * server.ts (`parseConfig(process.env)`); every bad variable is listed in one error, and the
 * result is a frozen typed object. No other code reads process.env.
 */
import { cityOverrides } from './policy.ts';

export interface PlatformConfig {
  readonly mqttPort: number;
  readonly mqttWsPort: number;
  readonly mqttTlsPort: number;
  /** MQTT over secure WebSocket, only when TLS is configured. */
  readonly mqttWssPort: number;
  readonly httpPort: number;
  /** The broker's own health port when it runs alone (`npm run broker`); 0: none. */
  readonly brokerHttpPort: number;
  /** The ingest's own health port when it runs alone (`npm run ingest`); 0: none. */
  readonly ingestHttpPort: number;
  readonly host: string;
  readonly dataDir: string;
  /** Unset → embedded store in dataDir. */
  readonly influx?: {
    readonly url: string;
    readonly db: string;
    readonly token?: string;
    readonly user?: string;
    readonly password?: string;
  };
  readonly adminPassword?: string;
  readonly demo: boolean;
  /** City whose policy applies (see domain/policy.ts cityOverrides). */
  readonly city: string;
  /** MQTT url the services connect to (ingest, api, simulators). */
  readonly mqttUrl: string;
  /** Service account credentials for the platform's own MQTT clients. */
  readonly serviceSecret?: string;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly redisUrl?: string;
  readonly logLevel: string;
  /** Ingest tuning for tests and the bench (INGEST_*); not part of the documented environment. */
  readonly ingest: {
    /** Spool cap in messages; unset → the ingest's default. */
    readonly spoolMaxMessages?: number;
    /** 'full' (fsync per group commit, the default) or 'normal'. */
    readonly spoolSync: 'full' | 'normal';
    /** INGEST_RULES=0 runs the ingest without the rules engine (store only). */
    readonly rules: boolean;
    /** MQTT client id of the ingest's persistent session. */
    readonly clientId: string;
    /**
     * INGEST_FEED: where the ingest's telemetry comes from. 'spool' (default): the broker on
     * the same machine appends it to the spool in DATA_DIR and acknowledges once durable, the
     * ingest reads the files (no second MQTT hop). 'mqtt': the ingest's persistent MQTT session
     * (the ingest on another host). Broker and ingest must be given the same value.
     */
    readonly feed: 'spool' | 'mqtt';
  };
}

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** The cities whose policy is known (domain/policy.ts cityOverrides). */
export const knownCities: readonly string[] = Object.freeze(Object.keys(cityOverrides));

export function parseConfig(env: Env): PlatformConfig {
  const problems: string[] = [];
  const port = (name: string, def: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      problems.push(`${name}=${JSON.stringify(raw)} is not a port (0–65535)`);
      return def;
    }
    return n;
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
    problems.push(`${name}=${JSON.stringify(raw)} is not a boolean (0/1)`);
    return def;
  };
  const mqttPort = port('MQTT_PORT', 1883);
  const influxUrl = env.INFLUX_URL || undefined;
  if (influxUrl && !/^https?:\/\/.+/.test(influxUrl)) problems.push(`INFLUX_URL=${JSON.stringify(influxUrl)} is not an http(s) URL`);
  const certFile = env.TLS_CERT_FILE || undefined;
  const keyFile = env.TLS_KEY_FILE || undefined;
  if (!!certFile !== !!keyFile) problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  // A typo in CITY must not silently apply another city's policy (N2: Harbin is 20 °C, not 18).
  const city = env.CITY || 'beijing';
  if (!knownCities.includes(city)) problems.push(`CITY=${JSON.stringify(city)} is not a known city (one of: ${knownCities.join(', ')})`);
  const spoolMaxRaw = env.INGEST_SPOOL_MAX || undefined;
  const spoolMaxMessages = spoolMaxRaw === undefined ? undefined : Number(spoolMaxRaw);
  if (spoolMaxMessages !== undefined && (!Number.isInteger(spoolMaxMessages) || spoolMaxMessages < 1))
    problems.push(`INGEST_SPOOL_MAX=${JSON.stringify(spoolMaxRaw)} is not a positive integer`);
  // A spool has one writer (storage/spool), so brokers in a Redis cluster cannot all append to
  // it: with REDIS_URL the telemetry reaches the ingest over its MQTT session.
  const feed = env.INGEST_FEED || (env.REDIS_URL ? 'mqtt' : 'spool');
  if (feed !== 'spool' && feed !== 'mqtt') problems.push(`INGEST_FEED=${JSON.stringify(feed)} is not 'spool' or 'mqtt'`);
  else if (feed === 'spool' && env.REDIS_URL)
    problems.push(
      'INGEST_FEED=spool cannot be used with REDIS_URL: the spool has one writer, so a broker cluster feeds the ingest over MQTT (INGEST_FEED=mqtt)',
    );
  const spoolSync = env.INGEST_SPOOL_SYNC || 'full';
  if (spoolSync !== 'full' && spoolSync !== 'normal')
    problems.push(`INGEST_SPOOL_SYNC=${JSON.stringify(spoolSync)} is not 'full' or 'normal'`);
  // Demo safety (issue 13 finding 10): the demo accounts' password is published, so with DEMO
  // on the platform listens on loopback only, and an explicit other HOST is refused.
  const demo = bool('DEMO', true);
  if (demo && env.HOST && !isLoopbackHost(env.HOST)) {
    problems.push(
      `HOST=${JSON.stringify(env.HOST)} with DEMO=1 would serve the demo accounts (published password) beyond this machine: set DEMO=0, or HOST=127.0.0.1 (docs/security.md)`,
    );
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel))
    problems.push(`LOG_LEVEL=${logLevel} is not a pino level`);
  const cfg: PlatformConfig = {
    mqttPort,
    mqttWsPort: port('MQTT_WS_PORT', 8083),
    mqttTlsPort: port('MQTT_TLS_PORT', 8883),
    mqttWssPort: port('MQTT_WSS_PORT', 8084),
    httpPort: port('HTTP_PORT', 8080),
    brokerHttpPort: port('BROKER_HTTP_PORT', 8081),
    ingestHttpPort: port('INGEST_HTTP_PORT', 8082),
    host: env.HOST || (demo ? '127.0.0.1' : '0.0.0.0'),
    dataDir: env.DATA_DIR || './data',
    influx: influxUrl
      ? {
          url: influxUrl.replace(/\/$/, ''),
          db: env.INFLUX_DB || 'heat',
          token: env.INFLUX_TOKEN || undefined,
          user: env.INFLUX_USER || undefined,
          password: env.INFLUX_PASSWORD || undefined,
        }
      : undefined,
    adminPassword: env.ADMIN_PASSWORD || undefined,
    demo,
    city,
    mqttUrl: env.MQTT_URL || `mqtt://127.0.0.1:${mqttPort}`,
    serviceSecret: env.SERVICE_SECRET || undefined,
    tls: certFile && keyFile ? { certFile, keyFile } : undefined,
    redisUrl: env.REDIS_URL || undefined,
    logLevel,
    ingest: Object.freeze({
      spoolMaxMessages,
      spoolSync: spoolSync === 'normal' ? 'normal' : 'full',
      rules: bool('INGEST_RULES', true),
      clientId: env.INGEST_CLIENT_ID || 'svc-ingest',
      feed: feed === 'mqtt' ? 'mqtt' : 'spool',
    }),
  };
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze(cfg);
}
