/**
 * Weather forecast input (issue #20): an hourly outdoor-temperature forecast for the city,
 * or for one station where given. Accepted over REST (POST /api/v1/forecasts) and MQTT
 * (topics.forecast, service accounts only), validated here like telemetry: schema first,
 * then time checks against the clock; a bad forecast is refused whole with a reason.
 */
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { parseTimestamp } from '../reading.ts';
import { TimestampSchema } from '../telemetry.schema.ts';

const HOUR_MS = 3_600_000;
/** Longest forecast accepted, hours (10 days; NWP products rarely go further hourly). */
export const MAX_FORECAST_HOURS = 240;

export const ForecastHourSchema = Type.Object(
  {
    ts: TimestampSchema,
    /** Outdoor temperature, °C (same physical range as a meter's outdoorTemp). */
    outdoorTemp: Type.Number({ minimum: -60, maximum: 50 }),
    /** One standard deviation of the forecast error, °C, if the provider gives one. */
    spreadC: Type.Optional(Type.Number({ minimum: 0, maximum: 30 })),
  },
  { additionalProperties: false },
);

export const WeatherForecastSchema = Type.Object(
  {
    /** Policy city (domain/policy.ts cityOverrides key), e.g. "beijing". */
    city: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9-]*$' }),
    /** Station this forecast is for; omitted: the whole city. */
    stationId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' })),
    issuedAt: TimestampSchema,
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    hours: Type.Array(ForecastHourSchema, { minItems: 1, maxItems: MAX_FORECAST_HOURS }),
  },
  { additionalProperties: false },
);
export type WeatherForecastBody = Static<typeof WeatherForecastSchema>;

/** A validated forecast: epoch ms, hours strictly increasing on whole hours. */
export interface WeatherForecast {
  readonly city: string;
  readonly stationId?: string;
  readonly issuedAt: number;
  readonly source?: string;
  readonly hours: readonly { readonly ts: number; readonly outdoorTemp: number; readonly spreadC?: number }[];
}

export type ForecastRefusal =
  'bad_json' | 'bad_shape' | 'bad_timestamp' | 'future_issue' | 'not_hourly' | 'not_increasing' | 'before_issue' | 'too_long';

export type ForecastValidation =
  | { readonly ok: true; readonly forecast: WeatherForecast }
  | { readonly ok: false; readonly reason: ForecastRefusal; readonly detail: string };

const check = Compile(WeatherForecastSchema);

export interface ForecastCheckOptions {
  /** Clock time, epoch ms. */
  readonly now: number;
  /** A forecast issued further in the future than this is refused, ms. */
  readonly maxFutureSkewMs: number;
}

/** Validate a forecast body (parsed JSON, or raw bytes from MQTT). Never throws. */
export function validateForecast(input: unknown, o: ForecastCheckOptions): ForecastValidation {
  let body = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      body = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch {
      return { ok: false, reason: 'bad_json', detail: 'not JSON' };
    }
  }
  if (!check.Check(body)) {
    const e = [...check.Errors(body)].slice(0, 3).map((x) => `${x.instancePath || '/'} ${x.message}`);
    return { ok: false, reason: 'bad_shape', detail: e.join('; ') };
  }
  const issuedAt = parseTimestamp(body.issuedAt);
  if (!Number.isFinite(issuedAt)) return { ok: false, reason: 'bad_timestamp', detail: '/issuedAt' };
  if (issuedAt > o.now + o.maxFutureSkewMs) return { ok: false, reason: 'future_issue', detail: '/issuedAt is in the future' };
  const hours: { ts: number; outdoorTemp: number; spreadC?: number }[] = [];
  for (let i = 0; i < body.hours.length; i++) {
    const h = body.hours[i]!;
    const ts = parseTimestamp(h.ts);
    if (!Number.isFinite(ts)) return { ok: false, reason: 'bad_timestamp', detail: `/hours/${i}/ts` };
    // Hourly values on whole UTC hours (every zone China uses is a whole-hour offset).
    if (ts % HOUR_MS !== 0) return { ok: false, reason: 'not_hourly', detail: `/hours/${i}/ts is not on a whole hour` };
    if (ts < issuedAt - HOUR_MS) return { ok: false, reason: 'before_issue', detail: `/hours/${i}/ts is before /issuedAt` };
    if (i > 0 && ts <= hours[i - 1]!.ts) return { ok: false, reason: 'not_increasing', detail: `/hours/${i}/ts` };
    if (ts > issuedAt + MAX_FORECAST_HOURS * HOUR_MS)
      return { ok: false, reason: 'too_long', detail: `/hours/${i}/ts beyond ${MAX_FORECAST_HOURS} h` };
    hours.push({ ts, outdoorTemp: h.outdoorTemp, ...(h.spreadC !== undefined ? { spreadC: h.spreadC } : {}) });
  }
  return {
    ok: true,
    forecast: {
      city: body.city,
      ...(body.stationId ? { stationId: body.stationId } : {}),
      issuedAt,
      ...(body.source ? { source: body.source } : {}),
      hours,
    },
  };
}

/** Outdoor forecast at an hour: the station's own forecast first, then the city's; undefined when neither covers it. */
export function forecastAt(
  f: WeatherForecast | undefined,
  ts: number,
): { outdoorTemp: number; spreadC?: number; leadH: number } | undefined {
  if (!f || f.hours.length === 0) return undefined;
  const first = f.hours[0]!.ts;
  const i = Math.round((ts - first) / HOUR_MS);
  const h = f.hours[i];
  if (!h || h.ts !== ts) {
    // Gaps are allowed: fall back to a search.
    const found = f.hours.find((x) => x.ts === ts);
    if (!found) return undefined;
    return {
      outdoorTemp: found.outdoorTemp,
      ...(found.spreadC !== undefined ? { spreadC: found.spreadC } : {}),
      leadH: (ts - f.issuedAt) / HOUR_MS,
    };
  }
  return { outdoorTemp: h.outdoorTemp, ...(h.spreadC !== undefined ? { spreadC: h.spreadC } : {}), leadH: (ts - f.issuedAt) / HOUR_MS };
}
