/** Weather forecast input: validated like telemetry, refused whole with a reason. */
import { describe, expect, it } from 'vitest';
import { forecastAt, validateForecast } from './weather.schema.ts';

const NOW = Date.UTC(2026, 11, 5, 6, 10);
const H = 3_600_000;
const base = Date.UTC(2026, 11, 5, 6);
const good = {
  city: 'beijing',
  issuedAt: new Date(base).toISOString(),
  source: 'cma-grapes',
  hours: [0, 1, 2].map((k) => ({ ts: new Date(base + k * H).toISOString(), outdoorTemp: -3 - k, spreadC: 0.5 + 0.1 * k })),
};
const opts = { now: NOW, maxFutureSkewMs: 5 * 60_000 };

describe('validateForecast', () => {
  it('accepts an hourly forecast and normalises its times', () => {
    const v = validateForecast(good, opts);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.forecast.issuedAt).toBe(base);
    expect(v.forecast.hours.map((h) => h.ts)).toEqual([base, base + H, base + 2 * H]);
    expect(forecastAt(v.forecast, base + H)).toEqual({ outdoorTemp: -4, spreadC: 0.6, leadH: 1 });
    expect(forecastAt(v.forecast, base + 5 * H)).toBeUndefined();
  });

  it('accepts raw MQTT bytes and epoch-ms times, per station', () => {
    const body = { city: 'beijing', stationId: 'st-0001', issuedAt: base, hours: [{ ts: base + H, outdoorTemp: 1.5 }] };
    const v = validateForecast(Buffer.from(JSON.stringify(body)), opts);
    expect(v).toMatchObject({ ok: true, forecast: { stationId: 'st-0001', hours: [{ ts: base + H, outdoorTemp: 1.5 }] } });
  });

  it.each([
    ['not JSON', Buffer.from('{"city":'), 'bad_json'],
    ['an unknown field', { ...good, extra: 1 }, 'bad_shape'],
    ['no hours', { ...good, hours: [] }, 'bad_shape'],
    ['an implausible temperature', { ...good, hours: [{ ts: base, outdoorTemp: 80 }] }, 'bad_shape'],
    ['a bad city name', { ...good, city: 'Beijing; DROP' }, 'bad_shape'],
    ['a bad timestamp', { ...good, hours: [{ ts: 'yesterday-ish!', outdoorTemp: 1 }] }, 'bad_timestamp'],
    ['an issue time in the future', { ...good, issuedAt: new Date(NOW + 3 * H).toISOString() }, 'future_issue'],
    ['hours off the hour', { ...good, hours: [{ ts: base + 90_000, outdoorTemp: 1 }] }, 'not_hourly'],
    [
      'hours out of order',
      {
        ...good,
        hours: [
          { ts: base + H, outdoorTemp: 1 },
          { ts: base, outdoorTemp: 1 },
        ],
      },
      'not_increasing',
    ],
    [
      'a duplicate hour',
      {
        ...good,
        hours: [
          { ts: base, outdoorTemp: 1 },
          { ts: base, outdoorTemp: 2 },
        ],
      },
      'not_increasing',
    ],
    ['hours long before the issue', { ...good, hours: [{ ts: base - 5 * H, outdoorTemp: 1 }] }, 'before_issue'],
    ['more than 10 days ahead', { ...good, hours: [{ ts: base + 241 * H, outdoorTemp: 1 }] }, 'too_long'],
  ])('refuses %s', (_what, body, reason) => {
    const v = validateForecast(body, opts);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.reason).toBe(reason);
      expect(v.detail.length).toBeGreaterThan(0);
    }
  });
});
