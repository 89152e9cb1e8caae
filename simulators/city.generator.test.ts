import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import { ApartmentSchema, BuildingSchema, DeviceSchema, RoomSchema, StationSchema } from '../domain/topology.schema.ts';
import { demoCity, deviceSecret, generateCity } from './city.generator.ts';

const digest = (x: unknown): string => createHash('sha256').update(JSON.stringify(x)).digest('hex');

describe('generateCity', () => {
  it('gives the same city and secrets for the same seed, a different one for another seed', () => {
    const a = generateCity({ seed: 42, stations: 8 });
    const b = generateCity({ seed: 42, stations: 8 });
    const c = generateCity({ seed: 43, stations: 8 });
    expect(digest(a.city)).toBe(digest(b.city));
    expect(digest([...a.secrets])).toBe(digest([...b.secrets]));
    expect(digest(a.city)).not.toBe(digest(c.city));
    expect(a.secrets.get('m-st-0001')).toBe(deviceSecret(42, 'm-st-0001'));
  });

  it('produces schema-valid, unique, consistently linked entities', () => {
    const { city, secrets } = generateCity({ seed: 7, stations: 12, gatewayShare: 0.5 });
    const check = (v: { Check(x: unknown): boolean }, items: readonly unknown[]) => {
      for (const x of items) expect(v.Check(x), JSON.stringify(x)).toBe(true);
    };
    check(Compile(StationSchema), city.stations);
    check(Compile(BuildingSchema), city.buildings);
    check(Compile(ApartmentSchema), city.apartments);
    check(Compile(RoomSchema), city.rooms);
    check(Compile(DeviceSchema), city.devices);
    for (const list of [city.stations, city.buildings, city.apartments, city.rooms, city.devices]) {
      expect(new Set(list.map((x) => x.id)).size).toBe(list.length);
    }
    const rooms = new Map(city.rooms.map((r) => [r.id, r]));
    const aptIds = new Set(city.apartments.map((a) => a.id));
    const stationIds = new Set(city.stations.map((s) => s.id));
    const gateways = new Set(city.devices.filter((d) => d.kind === 'gateway').map((d) => d.id));
    expect(gateways.size).toBeGreaterThan(0);
    for (const d of city.devices) {
      expect(secrets.get(d.id)).toMatch(/^[A-Za-z0-9_-]{22}$/);
      if (d.kind === 'room_sensor') {
        const room = rooms.get(d.roomId!);
        expect(room && aptIds.has(room.apartmentId)).toBe(true);
        expect(['living', 'bedroom']).toContain(room!.type);
        if (d.gatewayId) expect(gateways.has(d.gatewayId)).toBe(true);
      }
      if (d.kind === 'station_meter') expect(stationIds.has(d.stationId!)).toBe(true);
    }
    // One meter per station.
    expect(city.devices.filter((d) => d.kind === 'station_meter').length).toBe(city.stations.length);
  });

  it('favours top and ground floors and end units when placing sensors', () => {
    const { city } = generateCity({ seed: 3, stations: 20, sensorShare: 0.1 });
    const sensored = new Set(city.devices.filter((d) => d.kind === 'room_sensor').map((d) => d.roomId!.replace(/-r\d+$/, '')));
    const buildings = new Map(city.buildings.map((b) => [b.id, b]));
    let edge = 0;
    let edgeS = 0;
    let mid = 0;
    let midS = 0;
    for (const a of city.apartments) {
      const b = buildings.get(a.buildingId)!;
      const exposed = (a.floor === 1 || a.floor === b.floors) && (a.unit === 1 || a.unit === b.unitsPerFloor);
      if (exposed) {
        edge++;
        if (sensored.has(a.id)) edgeS++;
      } else {
        mid++;
        if (sensored.has(a.id)) midS++;
      }
    }
    expect(edgeS / edge).toBeGreaterThan((2 * midS) / mid);
    expect(sensored.size / city.apartments.length).toBeGreaterThan(0.05);
    expect(sensored.size / city.apartments.length).toBeLessThan(0.2);
  });

  it('demoCity has a few stations and a few hundred apartments', () => {
    const { city } = demoCity();
    expect(city.stations.length).toBe(4);
    expect(city.apartments.length).toBeGreaterThan(200);
    expect(city.apartments.length).toBeLessThan(450);
    expect(city.apartments.every((a) => /^\d+-\d+\d{2}$/.test(a.number))).toBe(true);
  });
});
