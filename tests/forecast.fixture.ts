/**
 * Stored history for the forecast tests: three days of readings of the test city's station s1
 * (api-fixture.ts), each flat a first-order response to the heating curve, flat b2-a22 running
 * 3 °C colder (an in-home problem), the curve moved by 3 °C every 17 h (an operator's changes).
 */
import { HOUR_MS, MINUTE_MS } from '../domain/clock.ts';
import type { Reading } from '../domain/reading.ts';
import type { ReadingStore } from '../storage/readings/reading-store.ts';

export async function seedStationHistory(store: ReadingStore, until: number): Promise<void> {
  const readings: Reading[] = [];
  const start = until - 72 * HOUR_MS;
  const T = new Map<string, number>();
  for (let ts = start; ts < until; ts += 10 * MINUTE_MS) {
    const outdoor = -2 + 4 * Math.sin((2 * Math.PI * (ts - start)) / (24 * HOUR_MS));
    const supply = 45 + (15 * (5 - Math.min(5, outdoor))) / 12.6 + (Math.floor((ts - start) / (17 * HOUR_MS)) % 2) * 3;
    readings.push({
      deviceId: 'sm-s1',
      kind: 'station_meter',
      ts,
      stationId: 's1',
      fields: { secondarySupplyTemp: supply, outdoorTemp: outdoor, secondaryFlow: 50, pumpHz: 42 },
    });
    for (const b of ['b1', 'b2'])
      for (const a of ['a11', 'a12', 'a21', 'a22']) {
        const apt = `${b}-${a}`;
        const eq = (0.83 * (0.875 * supply + 2.5) + outdoor + 2.7) / 1.98 + (apt === 'b2-a22' ? -3 : 0);
        const cur = T.get(apt) ?? eq;
        const next = eq + (cur - eq) * Math.exp(-10 / 60 / 8);
        T.set(apt, next);
        readings.push({
          deviceId: `rs-${apt}`,
          kind: 'room_sensor',
          ts,
          roomId: `${apt}-r1`,
          apartmentId: apt,
          buildingId: b,
          stationId: 's1',
          officeId: 'o1',
          fields: { temp: Math.round(next * 100) / 100 },
        });
      }
  }
  await store.write(readings);
}
