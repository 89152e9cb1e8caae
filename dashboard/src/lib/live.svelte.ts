/**
 * The one socket.io connection of the app (typed by domain/events.ts). Views subscribe to
 * events with `on()`, which returns the teardown their $effect hands back.
 */
import type { Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../domain/events.ts';
import { api } from './api.ts';
import type { FollowRoom } from '../../../domain/rooms.ts';

type Events = ServerToClientEvents;

export class LiveHub {
  connected = $state(false);
  private socket: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- the event handler registry, not UI state
  private readonly handlers = new Map<keyof Events, Set<(...a: never[]) => void>>();

  open(): () => void {
    const s = api.connect();
    this.socket = s;
    s.on('connect', () => (this.connected = true));
    s.on('disconnect', () => (this.connected = false));
    for (const ev of ['readings', 'incident', 'order', 'replay'] as const) {
      s.on(ev, ((payload: never) => {
        for (const h of this.handlers.get(ev) ?? []) h(payload);
      }) as never);
    }
    return () => {
      s.disconnect();
      this.socket = undefined;
      this.connected = false;
    };
  }

  on<E extends keyof Events>(ev: E, h: Events[E]): () => void {
    let set = this.handlers.get(ev);
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- the event handler registry, not UI state
    if (!set) this.handlers.set(ev, (set = new Set()));
    set.add(h);
    return () => set.delete(h);
  }

  /** Join a detail room (domain/rooms.ts stationRoom, apartmentRoom); returns the leave function. */
  follow(room: FollowRoom): () => void {
    const s = this.socket;
    const join = () => s?.emit('follow', room, () => undefined);
    join();
    s?.on('connect', join); // re-join after a reconnect
    return () => {
      s?.off('connect', join);
      s?.emit('unfollow', room);
    };
  }
}

export const live = new LiveHub();
