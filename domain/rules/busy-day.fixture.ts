/**
 * The busy day the determinism specs replay (a pump failure on st1, a window, a dead sensor, a
 * low battery, flapping, interleaved devices), shared with the snapshot-migration spec, which
 * replays the same day from a snapshot the version-1 engine wrote.
 */
import type { IncidentEvent } from '../incident.schema.ts';
import { defaultPolicy as policy } from '../policy.ts';
import type { Reading } from '../reading.ts';
import { HEALTHY_METER, MIN, T0, fixtureCity } from './city.fixture.ts';
import { RulesEngine } from './engine.ts';

export const busyCity = fixtureCity({ stationsPerSource: 3, buildingsPerStation: 2, floors: 4, unitsPerFloor: 2 });

/** A busy day: a pump failure on st1, a window, a dead sensor, a low battery, flapping, and interleaved devices. */
export function busyDay(): { readings: Reading[]; ticks: number[] } {
  const readings: Reading[] = [];
  const ticks: number[] = [];
  const sensors = busyCity.devices.filter((d) => d.kind === 'room_sensor');
  const meters = busyCity.devices.filter((d) => d.kind === 'station_meter');
  for (let m = 0; m <= 24 * 60; m += 10) {
    const ts = T0 + m * MIN;
    for (const d of meters) {
      const failed = d.stationId === 'st1' && m >= 120 && m < 600;
      const fields = failed
        ? { ...HEALTHY_METER, pumpHz: 0, secondarySupplyTemp: 30 }
        : { ...HEALTHY_METER, outdoorTemp: -3 + Math.sin(m / 200) };
      if (d.stationId === 'st3' && m > 900 && m < 1000) continue; // silent for a while
      readings.push({ deviceId: d.id, kind: 'station_meter', ts: ts + 7_000, fields, stationId: d.stationId });
    }
    // Sensors report at staggered offsets within the tick, reversed every other tick, so devices interleave.
    const order = (m / 10) % 2 === 0 ? sensors : [...sensors].reverse();
    order.forEach((d, i) => {
      const id = d.id;
      if (id === 's-b3-1-101-living' && m > 300 && m < 700) return; // dead for a while
      const inSt1 = id.startsWith('s-b1-') || id.startsWith('s-b2-');
      let temp = 21 + ((i % 5) - 2) / 10 + ((m / 10) % 3) / 100;
      if (inSt1 && m >= 120) temp = Math.max(14, 21 - (1.5 * (Math.min(m, 600) - 120)) / 60 + Math.max(0, (m - 600) / 40));
      if (id === 's-b4-1-201-living' && m >= 400 && m < 450) temp = 14; // window
      if (id.startsWith('s-b5-1-101-')) temp = (m / 10) % 2 === 0 ? 17.9 : 18.1; // flapping
      const bat = id === 's-b6-1-101-bed1' && m > 500 ? 2.4 : 3.1;
      readings.push({ deviceId: id, kind: 'room_sensor', ts: ts + (i % 9) * 1000, fields: { temp, bat }, roomId: d.roomId });
    });
    ticks.push(readings.length, ts);
  }
  return { readings, ticks };
}

export function replay(
  readings: Reading[],
  ticks: number[],
  from = 0,
  to = readings.length,
  engine = new RulesEngine({ city: busyCity, policy }),
) {
  const out: IncidentEvent[] = [];
  let t = 0;
  while (t < ticks.length && ticks[t]! <= from) t += 2;
  for (let i = from; i < to; i++) {
    out.push(...engine.ingest(readings[i]!));
    while (t < ticks.length && ticks[t] === i + 1) {
      out.push(...engine.advanceTo(ticks[t + 1]!));
      t += 2;
    }
  }
  return { out, engine };
}
