/**
 * socket.io events, typed once and used by the API and the dashboard (CONVENTIONS.md #4).
 * Rooms (domain/rooms.ts): `city`, `role:<role>`, `person:<id>`, `office:<id>`, `station:<id>`,
 * `apartment:<id>` — the API joins each socket to the rooms its user may see.
 */
import type { IncidentEvent } from './incident.schema.ts';
import type { Reading } from './reading.ts';
import type { FollowRoom } from './rooms.ts';

/** One live reading as pushed to clients (subset of a stored reading, location resolved). */
export type LiveReading = Omit<Reading, 'officeId'>;

/** Order change pushed live; the order itself is fetched over REST (GET /api/v1/orders/:id). */
export interface OrderEvent {
  readonly type: 'created' | 'updated' | 'escalated' | 'closed';
  readonly orderId: string;
  readonly status: string;
  readonly at: number;
  readonly escalationLevel?: string;
  readonly stationId?: string;
  readonly apartmentId?: string;
}

export interface ReplayProgress {
  readonly runId: string;
  readonly done: number;
  readonly total: number;
  readonly etaMs?: number;
  readonly finished: boolean;
}

export interface ServerToClientEvents {
  readings: (batch: readonly LiveReading[]) => void;
  incident: (e: IncidentEvent) => void;
  order: (e: OrderEvent) => void;
  replay: (p: ReplayProgress) => void;
}

export interface ClientToServerEvents {
  /** Ask to follow a station or apartment in detail; the API checks the user may (whatever a client sends). */
  follow: (room: FollowRoom, ack: (ok: boolean) => void) => void;
  unfollow: (room: FollowRoom) => void;
}
