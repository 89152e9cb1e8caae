/**
 * socket.io access (issue 13 finding 5): a socket belongs to the session it was opened with,
 * not just to the person. The handshake carries the bearer token; the socket joins
 * `session:<id>` and `person:<id>` beside the rooms of what the person may see. When a
 * session ends — logout, the person disabled, a password change (the other sessions), or
 * its expiry — its sockets are disconnected at once: on the revocation event, on a timer
 * at `expiresAt`, and on every SLA tick (`sweep()`, which also catches a driven clock).
 * A client's `follow` is re-checked against the session each time.
 */
import type { Server } from 'socket.io';
import type { Clock } from '../../domain/clock.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../domain/events.ts';
import { bearer, type AuthService } from '../auth.service.ts';
import type { ApiContext } from '../context.ts';
import type { Person } from '../people.repository.ts';
import {
  CITY_ROOM,
  apartmentRoom,
  officeRoom,
  parseRoom,
  personRoom,
  roleRoom,
  sessionRoom,
  stationRoom,
  type Room,
} from '../../domain/rooms.ts';

export interface SocketData {
  person: Person;
  sessionId: string;
  expiresAt: number;
  token: string;
}

export type HeatIo = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Rooms a person's socket joins. Escalation levels (N21) map to the roles that hold them. */
export function roomsOf(p: Person, stationsOfOffice: (officeId: string) => string[]): Room[] {
  const rooms: Room[] = [roleRoom(p.role), personRoom(p.id)];
  switch (p.role) {
    case 'admin':
      rooms.push(CITY_ROOM, roleRoom('station_head'), roleRoom('manager'), roleRoom('deputy_gm'), roleRoom('general_manager'));
      break;
    case 'dispatcher':
    case 'engineer':
      rooms.push(CITY_ROOM);
      break;
    case 'manager':
    case 'deputy_gm':
    case 'general_manager':
      // N21: each management rung hears its own escalations (person room, role room), not the others'.
      rooms.push(CITY_ROOM);
      break;
    case 'station_staff':
    case 'station_head':
      if (p.officeId) {
        rooms.push(officeRoom(p.officeId));
        for (const s of stationsOfOffice(p.officeId)) rooms.push(stationRoom(s));
      }
      break;
    case 'resident':
      if (p.apartmentId) rooms.push(apartmentRoom(p.apartmentId));
      break;
  }
  return rooms;
}

/** May this person follow this room? Residents their own apartment; station roles only inside their office's grid. */
export function mayFollow(p: Person, room: string, ctx: Pick<ApiContext, 'registry'>, stationsOfOffice: (o: string) => string[]): boolean {
  const parsed = parseRoom(room);
  if (!parsed) return false;
  const { kind, id } = parsed;
  const stationRole = p.role === 'station_staff' || p.role === 'station_head';
  if (kind === 'apartment') {
    if (p.role === 'resident') return p.apartmentId === id;
    const a = ctx.registry.getApartment(id);
    if (!a) return false;
    if (stationRole) {
      const b = ctx.registry.getBuilding(a.buildingId);
      return !!p.officeId && !!b && stationsOfOffice(p.officeId).includes(b.stationId);
    }
    return true;
  }
  if (kind === 'station') {
    if (p.role === 'resident') return false;
    if (stationRole) return !!p.officeId && stationsOfOffice(p.officeId).includes(id);
    return !!ctx.registry.getStation(id);
  }
  return false;
}

export interface SocketGateway {
  /** Disconnect every socket whose session has ended (expired, or deleted elsewhere). */
  sweep(): number;
  close(): void;
}

export function installSocketGateway(
  io: HeatIo,
  deps: { auth: AuthService; clock: Clock; ctx: Pick<ApiContext, 'registry'>; stationsOfOffice: (officeId: string) => string[] },
): SocketGateway {
  const { auth, clock, stationsOfOffice } = deps;
  const timers = new Map<string, NodeJS.Timeout>();

  io.use((socket, next) => {
    const a = socket.handshake.auth as { token?: unknown } | undefined;
    const token = typeof a?.token === 'string' ? a.token : bearer(socket.handshake.headers.authorization);
    const s = auth.session(token);
    if (!s || !token) return next(new Error('HEAT_ERR_UNAUTHENTICATED'));
    socket.data = { person: s.person, sessionId: s.id, expiresAt: s.expiresAt, token };
    next();
  });

  io.on('connection', (socket) => {
    const { person: p, sessionId, expiresAt } = socket.data;
    void socket.join([...roomsOf(p, stationsOfOffice), sessionRoom(sessionId)]);
    // Expiry on the wall clock; a driven clock is caught by sweep() on the next tick.
    const timer = setTimeout(() => socket.disconnect(true), Math.max(0, Math.min(expiresAt - clock.now(), 2 ** 31 - 1)));
    timer.unref();
    timers.set(socket.id, timer);
    socket.on('disconnect', () => {
      clearTimeout(timers.get(socket.id));
      timers.delete(socket.id);
    });
    socket.on('follow', (room, ack) => {
      const alive = !!auth.session(socket.data.token);
      const ok = alive && typeof room === 'string' && mayFollow(p, room, deps.ctx, stationsOfOffice);
      if (ok) void socket.join(room);
      if (typeof ack === 'function') ack(ok);
      // After the answer, so the client learns why.
      if (!alive) socket.disconnect(true);
    });
    socket.on('unfollow', (room) => {
      if (typeof room === 'string' && parseRoom(room)?.kind !== 'session' && !(roomsOf(p, stationsOfOffice) as string[]).includes(room))
        void socket.leave(room);
    });
  });

  const unsubscribe = auth.onRevoke((r) => {
    if ('sessionId' in r) {
      io.in(sessionRoom(r.sessionId)).disconnectSockets(true);
      return;
    }
    const sockets = io.in(personRoom(r.personId));
    if (r.exceptSessionId) void sockets.except(sessionRoom(r.exceptSessionId)).disconnectSockets(true);
    else sockets.disconnectSockets(true);
  });

  return {
    sweep() {
      let n = 0;
      for (const socket of io.sockets.sockets.values()) {
        if (socket.data.expiresAt > clock.now() && auth.session(socket.data.token)) continue;
        socket.disconnect(true);
        n++;
      }
      return n;
    },
    close() {
      unsubscribe();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
