/**
 * Fixtures for the ingest's integration tests, fault tests and bench: a small city with many
 * room sensors (one per room), a station meter, service accounts with a known secret, and
 * deterministic readings. Not used by the running ingest.
 */
import type { City, Device } from '../domain/topology.schema.ts';
import { RegistryRepository } from '../storage/records/registry.repository.ts';

export const FIX_SERVICE_SECRET = 'ingest-fixture-service-secret';
export const fixDeviceSecret = (id: string) => `fixture-secret-${id}`;

export const sensorId = (i: number) => `sen-${String(i).padStart(6, '0')}`;
export const METER_ID = 'met-0001';

/** A city of `sensors` room sensors: 10 apartments per building, 3 rooms per apartment. */
export function fixtureCity(sensors: number): City {
  const apartments: City['apartments'][number][] = [];
  const rooms: City['rooms'][number][] = [];
  const buildings: City['buildings'][number][] = [];
  const devices: Device[] = [];
  for (let i = 0; i < sensors; i++) {
    const apt = Math.floor(i / 3);
    const bldg = Math.floor(apt / 10);
    if (i % 30 === 0) {
      buildings.push({ id: `b-${bldg}`, name: `楼 ${bldg}`, stationId: 'st-1', address: `路 ${bldg} 号`, location: { lat: 39.9, lon: 116.4 }, floors: 6, entrances: 1, unitsPerFloor: 2 });
    }
    if (i % 3 === 0) {
      apartments.push({ id: `a-${apt}`, buildingId: `b-${bldg}`, entrance: 1, floor: 1 + (apt % 6), unit: 1 + (apt % 2), number: `${apt}`, areaM2: 80 });
    }
    rooms.push({ id: `r-${i}`, apartmentId: `a-${apt}`, name: `room ${i}`, type: i % 3 === 2 ? 'living' : 'bedroom', areaM2: 15 });
    devices.push({ id: sensorId(i), kind: 'room_sensor', roomId: `r-${i}`, intervalMin: 10, enabled: true });
  }
  devices.push({ id: METER_ID, kind: 'station_meter', stationId: 'st-1', intervalMin: 5, enabled: true });
  devices.push({ id: 'sen-disabled', kind: 'room_sensor', roomId: 'r-0', intervalMin: 10, enabled: false });
  devices.push({ id: 'gw-01', kind: 'gateway', intervalMin: 10, enabled: true });
  devices.push({ id: 'sen-via-gw', kind: 'room_sensor', roomId: 'r-1', gatewayId: 'gw-01', intervalMin: 10, enabled: true });
  return {
    seed: 1,
    name: 'fixture',
    policyCity: 'beijing',
    sources: [{ id: 'src-1', name: '热源', location: { lat: 39.9, lon: 116.4 } }],
    offices: [{ id: 'of-1', name: '供热所一' }],
    stations: [{ id: 'st-1', name: '换热站一', officeId: 'of-1', sourceId: 'src-1', branchId: 'br-1', location: { lat: 39.9, lon: 116.4 }, system: 'radiator' }],
    buildings,
    apartments,
    rooms,
    devices,
  };
}

/** Open `${dataDir}/records.db` with the fixture city and the service accounts. */
export function seedFixtureRegistry(dataDir: string, sensors: number): RegistryRepository {
  const registry = RegistryRepository.open(dataDir);
  const city = fixtureCity(sensors);
  registry.loadCity(city, new Map(city.devices.map((d) => [d.id, fixDeviceSecret(d.id)])));
  registry.upsertServiceAccount('svc-ingest', ['ingest'], FIX_SERVICE_SECRET);
  registry.upsertServiceAccount('svc-api', ['api'], FIX_SERVICE_SECRET);
  registry.upsertServiceAccount('svc-sim', ['replay'], FIX_SERVICE_SECRET);
  return registry;
}
