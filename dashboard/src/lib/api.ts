/**
 * All data access of the dashboard in one module: REST under /api/v1 with a bearer token, and
 * the typed socket.io connection (domain/events.ts). Adapting to the API's final routes or
 * shapes happens here and nowhere else.
 *
 * Response bodies are normalised leniently (a list may come bare or as `{ items }`) because the
 * API is written in parallel; the types are the domain's own.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../domain/events.ts';
import type { Incident } from '../../../domain/incident.schema.ts';
import type { HeatingPolicy } from '../../../domain/policy.ts';
import type { Order, OrderStatus } from '../../../domain/orders/order.ts';
import { ORDER_STEPS, type OrderResidentView, type OrderViewName, type PersonAction } from '../../../domain/orders/order.schema.ts';
import type { OutageBody } from '../../../domain/api.schema.ts';
import type { Role } from '../../../domain/roles.ts';
import type { Kpis } from '../../../domain/orders/kpi.ts';
import type { Apartment, Building, Room, Station, HeatSource } from '../../../domain/topology.schema.ts';
import type { ReplayCity as ReplayCityT, ReplayRun as ReplayRunT, ReplayStation as ReplayStationT, ReplayUpload as ReplayUploadT, ScenarioInfo as ScenarioInfoT } from '../../../domain/replay.schema.ts';

export type { Role };

export interface User {
  readonly id: string;
  readonly role: Role;
  readonly username?: string;
  readonly name?: string;
  readonly officeId?: string;
  readonly apartmentId?: string;
}

export interface LoginResult {
  readonly token: string;
  readonly user: User;
}

/** Latest value per field of one device or subject, as GET /measurements/latest returns. */
export interface LatestReading {
  readonly deviceId: string;
  readonly ts: number;
  readonly fields: Readonly<Record<string, number>>;
  readonly roomId?: string;
  readonly apartmentId?: string;
  readonly stationId?: string;
}

export interface HistoryPoint {
  readonly ts: number;
  readonly value: number;
}

export type { Order, OrderStatus };
/** An order as its resident sees it (GET /orders as a resident). */
export type ResidentOrder = OrderResidentView;
export type { Kpis };

/** N20 fields a dispatcher fills in when creating an order by hand (hotline). */
export interface OrderInput {
  readonly subjectType: 'apartment' | 'building' | 'station';
  readonly apartmentId?: string;
  readonly buildingId?: string;
  readonly stationId?: string;
  readonly content: string;
  readonly channel?: 'hotline' | 'app';
  readonly source?: 'complaint' | 'measurement';
  readonly residentPhone?: string;
  readonly residentContact?: string;
  readonly residentAddress?: string;
  readonly appointmentAt?: number;
  readonly supervisor?: string;
}

/** A lifecycle step exactly as the API accepts it: the domain's own union (domain/orders/order.schema.ts). */
export type OrderActionInput = PersonAction;

/** N9: a planned outage, with when each home was told (notices). */
export interface Outage {
  readonly id: string;
  readonly stationId?: string;
  readonly scopeType?: 'station' | 'building';
  readonly scopeId?: string;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly reason?: string;
  readonly announcedAt?: number;
  readonly announcedBy?: string;
  readonly emergency?: boolean;
  readonly emergencyReason?: string;
  readonly followUpOrderId?: string;
  readonly apartments?: readonly string[];
  readonly notices?: readonly { readonly apartmentId: string; readonly at: number; readonly hoursAhead: number }[];
}

/** N9: what a dispatcher fills in to announce a planned outage (domain/api.schema.ts OutageBodySchema). */
export type OutageInput = OutageBody;

export interface DeviceRow {
  readonly id: string;
  readonly kind: string;
  readonly enabled: boolean;
  readonly roomId?: string;
  readonly stationId?: string;
  readonly gatewayId?: string;
  readonly intervalMin?: number;
  readonly online?: boolean;
  readonly battery?: number;
  readonly lastSeen?: number;
}

export interface ProvisionResult {
  readonly device: DeviceRow;
  readonly secret: string;
}

export interface DeadLetter {
  readonly id: number | string;
  readonly at: number;
  readonly deviceId?: string;
  readonly topic: string;
  readonly reason: string;
  readonly raw: string;
}

/** What POST /replay answers; the run itself is `ReplayRunInfo` (GET /replay). */
export interface ReplayRun {
  readonly runId: string;
  readonly total?: number;
}
export type { ReplayCity, ReplayRun as ReplayRunInfo, ReplayStation, ReplayUpload, ScenarioInfo } from '../../../domain/replay.schema.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The answer's `details` (docs/errors.md), e.g. `{ reason }` of HEAT_ERR_WEAK_PASSWORD. */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | undefined>;

/** Accept `[...]`, `{ items: [...] }` or `{ data: [...] }`. */
export function asList<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') {
    for (const k of ['items', 'data', 'rows', 'results']) {
      const v = (body as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v as T[];
    }
  }
  return [];
}

function toMs(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Date.parse(v);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export class ApiClient {
  token: string | undefined;

  constructor(
    readonly baseUrl = '',
    private readonly fetchFn: Fetch = (i, init) => fetch(i, init),
  ) {}

  url(path: string, query?: Query): string {
    const q = query
      ? Object.entries(query)
          .filter(([, v]) => v !== undefined && v !== '')
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
          .join('&')
      : '';
    return `${this.baseUrl}/api/v1${path}${q ? `?${q}` : ''}`;
  }

  async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown; text?: { body: string; type: string } } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.text) headers['content-type'] = opts.text.type;
    const res = await this.fetchFn(this.url(path, opts.query), {
      method,
      headers,
      body: opts.text ? opts.text.body : opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (!res.ok) {
      const b = (body ?? {}) as { code?: string; message?: string; error?: string; details?: unknown };
      throw new ApiError(res.status, b.code ?? `HTTP_${res.status}`, b.message ?? b.error ?? res.statusText, b.details);
    }
    return body as T;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  // ---- auth
  async login(username: string, password: string): Promise<LoginResult> {
    // The API answers { token, expiresAt, person }; `user` is accepted too.
    const r = await this.request<{ token: string; person?: User; user?: User }>('POST', '/auth/login', { body: { username, password } });
    const user = r.person ?? r.user;
    if (!user) throw new ApiError(500, 'HEAT_ERR_LOGIN_SHAPE', 'login response without person');
    this.token = r.token;
    return { token: r.token, user };
  }

  /** Ends this session on the server too (its sockets are disconnected there). */
  async logout(): Promise<void> {
    await this.request('POST', '/auth/logout');
  }
  /** POST /auth/password: the current password and a new one (policy: docs/security.md). */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.request('POST', '/auth/password', { body: { currentPassword, newPassword } });
  }

  // ---- topology
  async stations(): Promise<Station[]> {
    return asList<Station>(await this.get('/stations'));
  }
  station(id: string): Promise<Station> {
    return this.get<Station>(`/stations/${encodeURIComponent(id)}`);
  }
  async sources(): Promise<HeatSource[]> {
    try {
      return asList<HeatSource>(await this.get('/sources'));
    } catch {
      return []; // optional: pipes are then drawn per branch without the source
    }
  }
  async buildings(stationId: string): Promise<Building[]> {
    return asList<Building>(await this.get('/buildings', { stationId }));
  }
  async apartments(buildingId: string): Promise<Apartment[]> {
    return asList<Apartment>(await this.get('/apartments', { buildingId }));
  }
  apartment(id: string): Promise<Apartment> {
    return this.get<Apartment>(`/apartments/${encodeURIComponent(id)}`);
  }
  async rooms(apartmentId: string): Promise<Room[]> {
    return asList<Room>(await this.get(`/apartments/${encodeURIComponent(apartmentId)}/rooms`));
  }
  /**
   * The city's policy (N2 standard, SLA clocks, heating curve) from GET /policy. No fallback:
   * another city's defaults would tell a Harbin resident 18 °C instead of 20 °C.
   */
  policy(): Promise<HeatingPolicy> {
    return this.get<HeatingPolicy>('/policy');
  }

  // ---- measurements: GET /measurements?<scope> → { latest, history? }
  async latest(q: { stationId?: string; apartmentId?: string; roomId?: string }): Promise<LatestReading[]> {
    const body = await this.get<{ latest?: unknown } | unknown[]>('/measurements', q);
    const list = Array.isArray(body) ? body : (body).latest;
    return asList<LatestReading>(list).map((r) => ({ ...r, ts: toMs(r.ts) ?? 0 }));
  }
  async history(q: {
    stationId?: string;
    apartmentId?: string;
    roomId?: string;
    deviceId?: string;
    field: string;
    from: number;
    to: number;
    windowMs?: number;
  }): Promise<HistoryPoint[]> {
    const body = await this.get<{ history?: unknown }>('/measurements', { ...q });
    return normaliseHistory(body.history ?? body, q.field);
  }

  // ---- incidents, orders, KPIs, outages
  async incidents(q: Query = {}): Promise<Incident[]> {
    return asList<Incident>(await this.get('/incidents', q));
  }
  /** GET /incidents/:id → { incident, order }. */
  async incident(id: string): Promise<{ incident: Incident; order?: Order }> {
    const r = await this.get<{ incident?: Incident; order?: Order | null } & Partial<Incident>>(`/incidents/${encodeURIComponent(id)}`);
    return r.incident ? { incident: r.incident, order: r.order ?? undefined } : { incident: r as Incident };
  }
  async orders(q: Query = {}): Promise<Order[]> {
    return asList<Order>(await this.get('/orders', q));
  }
  order(id: string): Promise<Order> {
    return this.get<Order>(`/orders/${encodeURIComponent(id)}`);
  }
  /** N20: one of the paper form's three copies, exactly as the server projects it. */
  orderCopy(id: string, view: OrderViewName): Promise<Partial<Order>> {
    return this.get<Partial<Order>>(`/orders/${encodeURIComponent(id)}`, { view });
  }
  /** The resident's own orders (their view: no staff notes). */
  async myOrders(apartmentId: string): Promise<ResidentOrder[]> {
    return asList<ResidentOrder>(await this.get('/orders', { apartmentId }));
  }
  /** POST /orders (complaint) or /measurement-requests → { linked, order }. */
  async createOrder(input: OrderInput): Promise<Order> {
    const { source, apartmentId, content, channel, residentPhone, residentContact, appointmentAt } = input;
    const path = source === 'measurement' ? '/measurement-requests' : '/orders';
    const r = await this.request<{ order?: Order } & Partial<Order>>('POST', path, {
      body: { apartmentId, content, channel, residentPhone, residentContact, appointmentAt },
    });
    return (r.order ?? r) as Order;
  }
  /** A resident's complaint or measurement request (N10 / 测温流程), from the resident app. */
  residentRequest(apartmentId: string, source: 'complaint' | 'measurement', content: string): Promise<Order> {
    return this.createOrder({ subjectType: 'apartment', apartmentId, source, content, channel: 'app' });
  }
  /** A lifecycle step: POST /orders/:id/<step> with the step's fields. */
  act(id: string, action: OrderActionInput): Promise<Order> {
    const { type, ...body } = action;
    return this.request<Order>('POST', `/orders/${encodeURIComponent(id)}/${ORDER_STEPS[type].path}`, { body });
  }
  /** N7: the resident's rating after the callback. */
  rate(id: string, satisfaction: number): Promise<Order> {
    return this.request<Order>('POST', `/orders/${encodeURIComponent(id)}/rating`, { body: { satisfaction } });
  }
  kpis(q: Query = {}): Promise<Kpis> {
    return this.get<Kpis>('/kpis', q);
  }
  /** N9: announce a planned outage (POST /outages; refused with less than 48 h notice unless an emergency says why). */
  announceOutage(input: OutageInput): Promise<Outage> {
    return this.request<Outage>('POST', '/outages', { body: input });
  }
  async outages(q: Query = {}): Promise<Outage[]> {
    return asList<Outage>(await this.get('/outages', q)).map((o) => ({
      ...o,
      startsAt: toMs(o.startsAt) ?? 0,
      endsAt: toMs(o.endsAt) ?? 0,
    }));
  }

  // ---- engineer
  async devices(q: Query = {}): Promise<DeviceRow[]> {
    return asList<DeviceRow & { battery?: number | null; lastSeen?: number | null }>(await this.get('/devices', q)).map((d) => ({
      ...d,
      lastSeen: toMs(d.lastSeen ?? undefined),
      battery: d.battery ?? undefined,
    }));
  }
  async provision(input: { id: string; kind: string; roomId?: string; stationId?: string; intervalMin?: number }): Promise<ProvisionResult> {
    const r = await this.request<Record<string, unknown>>('POST', '/devices', { body: input });
    const device = (r.device ?? r) as DeviceRow;
    return { device, secret: typeof r.secret === 'string' ? r.secret : '' };
  }
  setDeviceEnabled(id: string, enabled: boolean): Promise<unknown> {
    return this.request('POST', `/devices/${encodeURIComponent(id)}/${enabled ? 'enable' : 'disable'}`);
  }
  async deadLetters(q: Query = {}): Promise<DeadLetter[]> {
    return asList<DeadLetter>(await this.get('/dead-letters', q)).map((d) => ({ ...d, at: toMs(d.at) ?? 0 }));
  }
  async scenarios(): Promise<ScenarioInfoT[]> {
    return asList<ScenarioInfoT>(await this.get('/replay/scenarios'));
  }
  async replayRuns(): Promise<ReplayRunT[]> {
    return asList<ReplayRunT>(await this.get('/replay'));
  }
  replayCity(runId: string): Promise<ReplayCityT> {
    return this.get(`/replay/${encodeURIComponent(runId)}`);
  }
  replayStation(runId: string, stationId: string): Promise<ReplayStationT> {
    return this.get(`/replay/${encodeURIComponent(runId)}/stations/${encodeURIComponent(stationId)}`);
  }
  /** A recording (CSV or line protocol) as the request body. */
  uploadRecording(text: string, name: string): Promise<ReplayUploadT> {
    return this.request('POST', '/replay/files', { query: { name }, text: { body: text, type: name.endsWith('.csv') ? 'text/csv' : 'text/plain' } });
  }
  startReplay(input: { scenario?: string; file?: string; speed: number }): Promise<ReplayRun> {
    return this.request<ReplayRun>('POST', '/replay', { body: input });
  }
  stopReplay(runId: string): Promise<unknown> {
    return this.request('DELETE', `/replay/${encodeURIComponent(runId)}`);
  }

  // ---- live
  connect(): Socket<ServerToClientEvents, ClientToServerEvents> {
    return io(this.baseUrl || undefined, {
      auth: { token: this.token },
      transports: ['websocket', 'polling'],
      reconnectionDelayMax: 5000,
    });
  }
}

/** History may come as [{ts, value}], [{ts, <field>}] or [{ts, fields:{…}}]. */
export function normaliseHistory(body: unknown, field: string): HistoryPoint[] {
  const out: HistoryPoint[] = [];
  for (const p of asList<Record<string, unknown>>(body)) {
    const ts = toMs(p.ts ?? p.time ?? p.t);
    const raw = p.value ?? p[field] ?? p.mean ?? (p.fields as Record<string, unknown> | undefined)?.[field];
    if (ts !== undefined && typeof raw === 'number' && Number.isFinite(raw)) out.push({ ts, value: raw });
  }
  return out.sort((a, b) => a.ts - b.ts);
}

/** The one client the app uses (same origin: the API serves the dashboard). */
export const api = new ApiClient();
