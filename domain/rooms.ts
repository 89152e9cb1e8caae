/**
 * socket.io room names, in one place for every side that builds or reads them: the API's
 * gateway (which rooms a socket joins, which it may follow), the services that address events
 * (orders, incidents, live readings), and the dashboard (the detail room it follows). A room
 * is `city`, or `<kind>:<id>` for one of the kinds below; `parseRoom` is the only reader.
 */
import type { Role } from './roles.ts';

/** Rooms whose name carries an id, by kind. */
export const ROOM_KINDS = ['role', 'person', 'session', 'office', 'station', 'apartment'] as const;
export type RoomKind = (typeof ROOM_KINDS)[number];

export type CityRoom = 'city';
export type RoleRoom = `role:${Role}`;
export type PersonRoom = `person:${string}`;
export type SessionRoom = `session:${string}`;
export type OfficeRoom = `office:${string}`;
export type StationRoom = `station:${string}`;
export type ApartmentRoom = `apartment:${string}`;
export type Room = CityRoom | RoleRoom | PersonRoom | SessionRoom | OfficeRoom | StationRoom | ApartmentRoom;
/** The detail rooms a client may ask to follow (the API checks each request: api/plugins/socket.gateway.ts mayFollow). */
export type FollowRoom = StationRoom | ApartmentRoom;

/** Every reading, incident and order event of the city (dispatch desk, management, engineers). */
export const CITY_ROOM: CityRoom = 'city';
export const roleRoom = (role: Role): RoleRoom => `role:${role}`;
export const personRoom = (personId: string): PersonRoom => `person:${personId}`;
export const sessionRoom = (sessionId: string): SessionRoom => `session:${sessionId}`;
export const officeRoom = (officeId: string): OfficeRoom => `office:${officeId}`;
export const stationRoom = (stationId: string): StationRoom => `station:${stationId}`;
export const apartmentRoom = (apartmentId: string): ApartmentRoom => `apartment:${apartmentId}`;

/** `kind:id` → its parts; undefined for `city`, an unknown kind, an empty id or a second colon. */
export function parseRoom(room: string): { readonly kind: RoomKind; readonly id: string } | undefined {
  const i = room.indexOf(':');
  if (i < 0) return undefined;
  const kind = room.slice(0, i);
  const id = room.slice(i + 1);
  if (!id || id.includes(':') || !(ROOM_KINDS as readonly string[]).includes(kind)) return undefined;
  return { kind: kind as RoomKind, id };
}
