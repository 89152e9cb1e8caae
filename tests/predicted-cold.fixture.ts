/**
 * A small city and two days of its readings for the live predicted_cold tests (issue #20): one
 * radiator station whose supply follows the heating curve (an operator moves it by ±2.5 °C every
 * 11 h, inside the N-tolerance, which is what lets a fit tell supply from weather apart), six
 * flats that answer it and the weather as first-order rooms (τ 8 h, 0.25 °C per °C of supply,
 * 0.35 °C per °C outdoors) at 19.4–20.4 °C when the history ends, and a weather forecast of a hard frost: −18 °C, well
 * below the design temperature (N3), where the curve stops rising and the rooms cool.
 */
import { HOUR_MS, MINUTE_MS } from '../domain/clock.ts';
import type { WeatherForecast } from '../domain/forecast/weather.schema.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import { heatingCurveSetpointC } from '../domain/rules/station.rule.ts';
import type { City } from '../domain/topology.schema.ts';

const loc = { lat: 39.9, lon: 116.4 };
export const APARTMENTS = ['a-101', 'a-102', 'a-201', 'a-202', 'a-301', 'a-302'] as const;
export const METER = 'sm-p';
export const sensorOf = (apt: string) => `rs-${apt}`;

export function frostCity(): { city: City; secrets: Map<string, string> } {
  const city: City = {
    seed: 0,
    name: 'frost',
    policyCity: 'beijing',
    sources: [{ id: 'src-p', name: 'CHP', location: loc }],
    offices: [{ id: 'off-p', name: 'Office' }],
    stations: [
      { id: 'st-p', name: 'Station P', officeId: 'off-p', sourceId: 'src-p', branchId: 'br-p', location: loc, system: 'radiator' },
    ],
    buildings: [
      {
        id: 'b-p',
        name: 'Building P',
        stationId: 'st-p',
        address: '1 Frost Road',
        location: loc,
        floors: 3,
        entrances: 1,
        unitsPerFloor: 2,
      },
    ],
    apartments: APARTMENTS.map((id) => ({
      id,
      buildingId: 'b-p',
      entrance: 1,
      floor: Number(id[2]),
      unit: Number(id[4]),
      number: id.slice(2),
      areaM2: 60,
    })),
    rooms: APARTMENTS.map((id) => ({ id: `${id}-living`, apartmentId: id, name: 'Living room', type: 'living' as const, areaM2: 20 })),
    devices: [
      { id: METER, kind: 'station_meter', stationId: 'st-p', intervalMin: 10, enabled: true },
      ...APARTMENTS.map((id) => ({
        id: sensorOf(id),
        kind: 'room_sensor' as const,
        roomId: `${id}-living`,
        intervalMin: 10,
        enabled: true,
      })),
    ],
  };
  const secrets = new Map(city.devices.map((d) => [d.id, `secret-of-${d.id}-0001`]));
  return { city, secrets };
}

export type Payload = Record<string, number>;

/** Readings of every device, every 10 min from `until − hours` to `until`, grouped by hour (oldest first). */
export function frostHistory(policy: HeatingPolicy, until: number, hours = 48): { hour: number; byDevice: Map<string, Payload[]> }[] {
  const start = until - hours * HOUR_MS;
  const T = new Map<string, number>();
  const out: { hour: number; byDevice: Map<string, Payload[]> }[] = [];
  for (let ts = start; ts <= until; ts += 10 * MINUTE_MS) {
    const hour = Math.floor(ts / HOUR_MS);
    if (out[out.length - 1]?.hour !== hour) out.push({ hour, byDevice: new Map() });
    const bucket = out[out.length - 1]!.byDevice;
    const outdoor = -2 + 4 * Math.sin((2 * Math.PI * (ts - start)) / (24 * HOUR_MS));
    const supply = heatingCurveSetpointC(outdoor, policy) + (Math.floor((ts - start) / (11 * HOUR_MS)) % 2 ? 2.5 : -2.5);
    const push = (id: string, p: Payload) => bucket.set(id, [...(bucket.get(id) ?? []), p]);
    push(METER, {
      ts,
      secondarySupplyTemp: r2(supply),
      secondaryReturnTemp: r2(supply - 12),
      outdoorTemp: r2(outdoor),
      secondaryFlow: 80,
      pumpHz: 42,
    });
    APARTMENTS.forEach((apt, i) => {
      const eq = 19.9 + 0.2 * i + 0.25 * (supply - 55) + 0.35 * (outdoor + 2);
      const cur = T.get(apt) ?? eq;
      const next = eq + (cur - eq) * Math.exp(-10 / 60 / 8);
      T.set(apt, next);
      push(sensorOf(apt), { ts, temp: r2(next) });
    });
  }
  return out;
}

/** The frost forecast, issued at the hour of `now`, 30 hourly values. */
export function frostForecast(now: number, city = 'beijing'): WeatherForecast {
  const issuedAt = Math.floor(now / HOUR_MS) * HOUR_MS;
  return {
    city,
    issuedAt,
    source: 'test',
    hours: Array.from({ length: 31 }, (_, k) => ({
      ts: issuedAt + k * HOUR_MS,
      outdoorTemp: k === 0 ? -2 : -18,
      spreadC: Math.round((0.5 + 0.05 * k) * 100) / 100,
    })),
  };
}

const r2 = (x: number) => Math.round(x * 100) / 100;
