/**
 * Lookups over a generated (or registry-loaded) city: where a device sits, which rooms an
 * apartment has. Used by the model, the fleet, the runner and replay to tag readings the way
 * the ingest does (the location comes from the registry, never from the payload).
 */
import type { Reading } from '../domain/reading.ts';
import type { Apartment, Building, City, Device, DeviceLocation, Room, Station } from '../domain/topology.schema.ts';

export interface CityIndex {
  readonly city: City;
  readonly devices: ReadonlyMap<string, Device>;
  readonly rooms: ReadonlyMap<string, Room>;
  readonly apartments: ReadonlyMap<string, Apartment>;
  readonly buildings: ReadonlyMap<string, Building>;
  readonly stations: ReadonlyMap<string, Station>;
  locate(deviceId: string): DeviceLocation | undefined;
  /** A protocol payload (already validated) → a Reading with location tags. */
  toReading(deviceId: string, ts: number, fields: Readonly<Record<string, number>>): Reading | undefined;
}

export function indexCity(city: City): CityIndex {
  const byId = <T extends { id: string }>(xs: readonly T[]): Map<string, T> => new Map(xs.map((x) => [x.id, x]));
  const devices = byId(city.devices);
  const rooms = byId(city.rooms);
  const apartments = byId(city.apartments);
  const buildings = byId(city.buildings);
  const stations = byId(city.stations);
  const cache = new Map<string, DeviceLocation>();
  const locate = (deviceId: string): DeviceLocation | undefined => {
    const hit = cache.get(deviceId);
    if (hit) return hit;
    const d = devices.get(deviceId);
    if (!d) return undefined;
    const room = d.roomId ? rooms.get(d.roomId) : undefined;
    const apt = room ? apartments.get(room.apartmentId) : undefined;
    const b = apt ? buildings.get(apt.buildingId) : undefined;
    const st = stations.get(d.stationId ?? b?.stationId ?? '');
    const loc: DeviceLocation = {
      deviceId,
      kind: d.kind,
      ...(room ? { roomId: room.id } : {}),
      ...(apt ? { apartmentId: apt.id } : {}),
      ...(b ? { buildingId: b.id } : {}),
      ...(st ? { stationId: st.id, officeId: st.officeId, sourceId: st.sourceId } : {}),
      ...(d.gatewayId ? { gatewayId: d.gatewayId } : {}),
      intervalMin: d.intervalMin,
      enabled: d.enabled,
    };
    cache.set(deviceId, loc);
    return loc;
  };
  return {
    city,
    devices,
    rooms,
    apartments,
    buildings,
    stations,
    locate,
    toReading(deviceId, ts, fields) {
      const l = locate(deviceId);
      if (!l) return undefined;
      return {
        deviceId,
        kind: l.kind,
        ts,
        fields,
        ...(l.roomId ? { roomId: l.roomId } : {}),
        ...(l.apartmentId ? { apartmentId: l.apartmentId } : {}),
        ...(l.buildingId ? { buildingId: l.buildingId } : {}),
        ...(l.stationId ? { stationId: l.stationId } : {}),
        ...(l.officeId ? { officeId: l.officeId } : {}),
      };
    },
  };
}
