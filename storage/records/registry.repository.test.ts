import { describe, expect, it } from 'vitest';
import type { City } from '../../domain/topology.schema.ts';
import { RegistryRepository } from './registry.repository.ts';
import { FIX_LOCATION, oneStationCity } from './testing.city.ts';

const city: City = oneStationCity('t', {
  buildings: [
    {
      id: 'b-1',
      name: 'B1',
      stationId: 'st-1',
      address: 'x',
      location: { ...FIX_LOCATION },
      floors: 6,
      entrances: 1,
      unitsPerFloor: 2,
    },
  ],
  apartments: [{ id: 'a-1', buildingId: 'b-1', entrance: 1, floor: 6, unit: 1, number: '1-601', areaM2: 80 }],
  rooms: [{ id: 'r-1', apartmentId: 'a-1', name: 'living', type: 'living', areaM2: 20 }],
  devices: [
    { id: 'rs-1', kind: 'room_sensor', roomId: 'r-1', intervalMin: 10, enabled: true },
    { id: 'sm-1', kind: 'station_meter', stationId: 'st-1', intervalMin: 5, enabled: true },
  ],
});

describe('RegistryRepository', () => {
  it('loads a city and resolves device locations', () => {
    const reg = RegistryRepository.open(':memory:');
    expect(reg.isEmpty()).toBe(true);
    reg.loadCity(
      city,
      new Map([
        ['rs-1', 'secret-1'],
        ['sm-1', 'secret-2'],
      ]),
    );
    expect(reg.isEmpty()).toBe(false);
    expect(reg.locate('rs-1')).toEqual({
      deviceId: 'rs-1',
      kind: 'room_sensor',
      intervalMin: 10,
      enabled: true,
      roomId: 'r-1',
      apartmentId: 'a-1',
      buildingId: 'b-1',
      stationId: 'st-1',
      officeId: 'of-1',
      sourceId: 'src-1',
    });
    expect(reg.locate('sm-1')).toMatchObject({ stationId: 'st-1', officeId: 'of-1' });
    expect(reg.city().apartments).toHaveLength(1);
  });
  it('gives back the city it loaded, table by table, without the secrets', () => {
    const reg = RegistryRepository.open(':memory:');
    const withPhone: City = {
      ...city,
      offices: [
        { id: 'of-1', name: '供热所一', phone: '010-1' },
        { id: 'of-2', name: '供热所二' },
      ],
    };
    reg.loadCity(
      withPhone,
      new Map([
        ['rs-1', 'secret-1'],
        ['sm-1', 'secret-2'],
      ]),
    );
    expect(reg.city()).toEqual(withPhone);
    expect(JSON.stringify(reg.city())).not.toMatch(/secret|hash|salt/);
    expect(reg.listBuildings('st-1')).toEqual(city.buildings);
    expect(reg.listBuildings('st-2')).toEqual([]);
    expect(reg.listApartments('b-1')).toEqual(city.apartments);
    expect(reg.listRooms('a-1')).toEqual(city.rooms);
    expect(reg.getStation('st-1')).toEqual(city.stations[0]);
    expect(reg.getApartment('a-1')).toEqual(city.apartments[0]);
    expect(reg.getDevice('rs-1')).toEqual(city.devices[0]);
    expect(reg.getBuilding('b-9')).toBeUndefined();
  });
  it('stores only hashes and verifies secrets', () => {
    const reg = RegistryRepository.open(':memory:');
    reg.loadCity(
      city,
      new Map([
        ['rs-1', 'secret-1'],
        ['sm-1', 'secret-2'],
      ]),
    );
    expect(reg.verifyDevice('rs-1', 'secret-1')).toBe(true);
    expect(reg.verifyDevice('rs-1', 'secret-2')).toBe(false);
    expect(reg.verifyDevice('nope', 'secret-1')).toBe(false);
    const raw = JSON.stringify(reg.db.prepare('SELECT * FROM devices').all());
    expect(raw).not.toContain('secret-1');
  });
  it('loads nothing when one device lacks a secret', () => {
    const reg = RegistryRepository.open(':memory:');
    expect(() => reg.loadCity(city, new Map([['rs-1', 's']]))).toThrow(/sm-1/);
    expect(reg.isEmpty()).toBe(true);
  });
});
