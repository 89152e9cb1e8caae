/**
 * Fixtures for the ingest's integration tests, fault tests and bench: a small city with many
 * room sensors (one per room), a station meter, service accounts with a known secret, and
 * deterministic readings. Not used by the running ingest.
 */
import type { City, Device } from '../domain/topology.schema.ts';
import { RegistryRepository } from '../storage/records/registry.repository.ts';
import { serviceSecretFor } from '../storage/records/service-accounts.ts';
import { oneStationCity } from '../storage/records/testing.city.ts';

/** The master key (SERVICE_SECRET of an ingest child process); each account's password derives from it. */
export const FIX_SERVICE_SECRET = 'ingest-fixture-service-secret';
export const fixServiceSecret = (account: string) => serviceSecretFor(FIX_SERVICE_SECRET, account);
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
      buildings.push({
        id: `b-${bldg}`,
        name: `楼 ${bldg}`,
        stationId: 'st-1',
        address: `路 ${bldg} 号`,
        location: { lat: 39.9, lon: 116.4 },
        floors: 6,
        entrances: 1,
        unitsPerFloor: 2,
      });
    }
    if (i % 3 === 0) {
      apartments.push({
        id: `a-${apt}`,
        buildingId: `b-${bldg}`,
        entrance: 1,
        floor: 1 + (apt % 6),
        unit: 1 + (apt % 2),
        number: `${apt}`,
        areaM2: 80,
      });
    }
    rooms.push({ id: `r-${i}`, apartmentId: `a-${apt}`, name: `room ${i}`, type: i % 3 === 2 ? 'living' : 'bedroom', areaM2: 15 });
    devices.push({ id: sensorId(i), kind: 'room_sensor', roomId: `r-${i}`, intervalMin: 10, enabled: true });
  }
  devices.push({ id: METER_ID, kind: 'station_meter', stationId: 'st-1', intervalMin: 5, enabled: true });
  devices.push({ id: 'sen-disabled', kind: 'room_sensor', roomId: 'r-0', intervalMin: 10, enabled: false });
  devices.push({ id: 'gw-01', kind: 'gateway', intervalMin: 10, enabled: true });
  devices.push({ id: 'sen-via-gw', kind: 'room_sensor', roomId: 'r-1', gatewayId: 'gw-01', intervalMin: 10, enabled: true });
  return oneStationCity('fixture', { buildings, apartments, rooms, devices });
}

/** Open `${dataDir}/records.db` with the fixture city and the service accounts. */
export function seedFixtureRegistry(dataDir: string, sensors: number): RegistryRepository {
  const registry = RegistryRepository.open(dataDir);
  const city = fixtureCity(sensors);
  registry.loadCity(city, new Map(city.devices.map((d) => [d.id, fixDeviceSecret(d.id)])));
  registry.upsertServiceAccount('svc-ingest', ['ingest'], fixServiceSecret('svc-ingest'));
  registry.upsertServiceAccount('svc-api', ['api'], fixServiceSecret('svc-api'));
  registry.upsertServiceAccount('svc-sim', ['replay'], fixServiceSecret('svc-sim'));
  return registry;
}

/** One fixture reading: device `i`, `k`-th reading, distinct (device, ts) for every (i, k). */
export const fixtureReading = (i: number, k: number, baseTs: number) => ({ ts: baseTs + k * 60_000, temp: 15 + (i % 100) / 10 });

export interface StreamOptions {
  readonly url: string;
  /** Devices sensorId(0 … devices-1), each sending `perDevice` readings, one per message. */
  readonly devices: number;
  readonly perDevice: number;
  readonly baseTs: number;
  /** Readings per message (a JSON array when > 1, like a sensor's backlog); default 1. */
  readonly perMessage?: number;
  /** Parallel publisher connections (svc-sim, replay scope). */
  readonly connections?: number;
  /** QoS 1 publishes in flight per connection. */
  readonly window?: number;
  /** Called with the number of messages acknowledged so far, about every 1000. */
  readonly onProgress?: (acked: number) => void;
  /** Called just before each publish (e.g. to note publish times). */
  readonly onPublish?: (deviceIdx: number, k: number, ts: number) => void;
}

/**
 * Simulated devices: publish devices × perDevice readings at QoS 1 through `svc-sim`
 * connections, each keeping `window` messages in flight. Resolves when every one was PUBACKed
 * by the broker (MQTT.js resends un-acked ones after a reconnect).
 */
export async function publishStream(o: StreamOptions): Promise<number> {
  const { default: mqtt } = await import('mqtt');
  const n = o.connections ?? 4;
  const windowSize = o.window ?? 500;
  const per = Math.max(1, o.perMessage ?? 1);
  // Messages: each device sends ceil(perDevice / per) of them.
  const total = o.devices * Math.ceil(o.perDevice / per);
  let next = 0;
  let acked = 0;
  const clients = await Promise.all(
    Array.from({ length: n }, (_, c) =>
      mqtt.connectAsync(o.url, {
        clientId: `svc-sim-pub-${c}-${Math.random().toString(36).slice(2, 8)}`,
        username: 'svc-sim',
        password: fixServiceSecret('svc-sim'),
        protocolVersion: 4,
        reconnectPeriod: 200,
        clean: true,
      }),
    ),
  );
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          let inFlight = 0;
          const pump = () => {
            while (inFlight < windowSize && next < total) {
              // Round-robin over devices so every series grows together, like a live fleet;
              // a message carries readings k … k+perMessage-1 of one device.
              const idx = next;
              const i = idx % o.devices;
              const k0 = Math.floor(idx / o.devices) * per;
              const batch = [];
              for (let k = k0; k < Math.min(k0 + per, o.perDevice); k++) {
                const r = fixtureReading(i, k, o.baseTs);
                o.onPublish?.(i, k, r.ts);
                batch.push(r);
              }
              next++;
              inFlight++;
              const n = batch.length;
              client.publish(`heat/v1/devices/${sensorId(i)}/telemetry`, JSON.stringify(per === 1 ? batch[0] : batch), { qos: 1 }, () => {
                inFlight--;
                acked += n;
                if (Math.floor(acked / 1000) !== Math.floor((acked - n) / 1000)) o.onProgress?.(acked);
                pump();
              });
            }
            if (inFlight === 0 && next >= total) resolve();
          };
          pump();
        }),
    ),
  );
  await Promise.all(clients.map((c) => c.endAsync()));
  return acked;
}
