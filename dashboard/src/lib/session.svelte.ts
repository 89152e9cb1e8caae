/**
 * Who is signed in. The token is kept in sessionStorage so a reload keeps the session but a
 * closed tab forgets it; every REST call and the socket handshake carry it.
 */
import { api, type LoginResult, type Role, type User } from './api.ts';

const KEY = 'heatwatch.session';

/** The views each role may open, in nav order. */
export const NAV_BY_ROLE: Readonly<Record<Role, readonly Route[]>> = {
  dispatcher: ['map', 'incidents', 'orders', 'kpis'],
  station_staff: ['map', 'incidents', 'orders'],
  station_head: ['map', 'incidents', 'orders', 'kpis'],
  manager: ['kpis', 'map', 'incidents', 'orders'],
  deputy_gm: ['kpis', 'map', 'incidents', 'orders'],
  general_manager: ['kpis', 'map', 'incidents', 'orders'],
  resident: ['home'],
  engineer: ['devices', 'console', 'map', 'incidents'],
  admin: ['map', 'incidents', 'orders', 'kpis', 'devices', 'console'],
};

export type Route = 'map' | 'incidents' | 'orders' | 'kpis' | 'home' | 'devices' | 'console';

export class Session {
  user = $state.raw<User | undefined>(undefined);
  token = $state<string | undefined>(undefined);

  nav: readonly Route[] = $derived(this.user ? (NAV_BY_ROLE[this.user.role] ?? ['map']) : []);

  restore(): void {
    try {
      const raw = sessionStorage.getItem(KEY);
      if (!raw) return;
      const s = JSON.parse(raw) as LoginResult;
      this.accept(s);
    } catch {
      // corrupt or unavailable storage: start signed out
    }
  }

  async login(username: string, password: string): Promise<void> {
    const r = await api.login(username, password);
    this.accept(r);
    try {
      sessionStorage.setItem(KEY, JSON.stringify(r));
    } catch {
      // storage unavailable: session lasts for this page only
    }
  }

  logout(): void {
    // End the session on the server as well; signing out locally does not wait for it.
    if (this.token) void api.logout().catch(() => undefined);
    this.user = undefined;
    this.token = undefined;
    api.token = undefined;
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      // nothing stored
    }
  }

  private accept(r: LoginResult): void {
    api.token = r.token;
    this.token = r.token;
    this.user = r.user;
  }
}

export const session = new Session();

/** Hash routing: `#/map`, `#/station/<id>`, `#/orders/<id>/print` … */
export class Router {
  hash = $state(typeof location === 'undefined' ? '' : location.hash);
  parts: readonly string[] = $derived(
    this.hash
      .replace(/^#\/?/, '')
      .split('/')
      .filter((p) => p !== '')
      .map((p) => decodeURIComponent(p)),
  );

  go(path: string): void {
    location.hash = `#/${path}`;
  }

  /** Called by the App's hashchange listener. */
  sync(): void {
    this.hash = location.hash;
  }
}

export const router = new Router();
