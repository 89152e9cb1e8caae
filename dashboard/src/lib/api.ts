/**
 * All data access of the dashboard in one module: REST under /api/v1 with a bearer token, and
 * the typed socket.io connection (domain/events.ts).
 *
 * Every request and answer is typed by api.generated.ts, which `npm run gen:client` generates
 * from the routes' own OpenAPI document (`npm run check:client` fails when it is stale), and
 * sent through openapi-fetch: a path, query or body the API does not declare does not compile,
 * and no shape here is written by hand.
 */
import createClient, { type Client } from 'openapi-fetch';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../domain/events.ts';
import { ORDER_STEPS, type PersonAction } from '../../../domain/orders/order-steps.schema.ts';
import type { components, paths } from './api.generated.ts';

type Method = 'get' | 'post' | 'put' | 'delete';
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : undefined;
/** The JSON body of an operation's 2xx answer, as the API declares it. */
export type Ok<P extends keyof paths, M extends Method> =
  Op<P, M> extends { responses: infer R } ? JsonOf<R[Extract<keyof R, 200 | 201 | 202>]> : never;
/** The JSON request body an operation accepts. */
export type BodyOf<P extends keyof paths, M extends Method> =
  Op<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
/** The query an operation accepts. */
export type QueryOf<P extends keyof paths, M extends Method> = NonNullable<
  Op<P, M> extends { parameters: { query?: infer Q } } ? Q : never
>;

type LoginAnswer = Ok<'/api/v1/auth/login', 'post'>;
export type User = LoginAnswer['person'];
export type Role = User['role'];
export interface LoginResult {
  readonly token: string;
  readonly user: User;
}
export type HeatError = components['schemas']['HeatError'];

type Measurements = Ok<'/api/v1/measurements', 'get'>;
/** Latest value per field of one device or subject. */
export type LatestReading = Measurements['latest'][number];
/** One window of GET /measurements?field=…&from=…&to=… with a value (windows without one are left out). */
export type HistoryPoint = { readonly ts: number; readonly value: number };

export type Station = Ok<'/api/v1/stations/{id}', 'get'>;
/** A station as the list and the replay give it (no buildings). */
export type StationInfo = Ok<'/api/v1/stations', 'get'>[number];
export type GeoPoint = StationInfo['location'];
export type HeatSource = Ok<'/api/v1/sources', 'get'>[number];
export type Building = Ok<'/api/v1/buildings', 'get'>[number];
/** GET /buildings/:id: the building with its apartments. */
export type BuildingDetail = Ok<'/api/v1/buildings/{id}', 'get'>;
export type Apartment = Ok<'/api/v1/apartments', 'get'>[number];
/** GET /apartments/:id: the apartment with its rooms (and building). */
export type ApartmentDetail = Ok<'/api/v1/apartments/{id}', 'get'>;
export type Room = Ok<'/api/v1/apartments/{id}/rooms', 'get'>[number];
export type Office = Ok<'/api/v1/offices', 'get'>[number];
export type HeatingPolicy = Ok<'/api/v1/policy', 'get'>;
export type Incident = Ok<'/api/v1/incidents', 'get'>[number];
export type IncidentKind = Incident['kind'];
type OrderView = Ok<'/api/v1/orders/{id}', 'get'>;
/** The whole record (company and station copies). */
export type FullOrder = Extract<OrderView, { history: unknown }>;
/** An order as its resident sees it (no staff notes; a status timeline). */
export type ResidentOrder = Extract<OrderView, { timeline: unknown }>;
/** N20: the team copy field workers get (domain ORDER_TEAM_FIELDS). */
export type OrderTeamCopy = Exclude<OrderView, FullOrder | ResidentOrder>;
/** A narrower copy: the whole record's other fields are absent. */
type Absent<T> = T & { readonly [K in Exclude<keyof FullOrder, keyof T>]?: undefined };
/** An order as the API answers it: the whole record, the resident's view or the team copy. */
export type Order = FullOrder | Absent<ResidentOrder> | Absent<OrderTeamCopy>;
/** Which copy GET /orders/:id?view= projects (N20's three copies). */
export type OrderViewName = NonNullable<QueryOf<'/api/v1/orders/{id}', 'get'>['view']>;
export type OrderStatus = Order['status'];
export type Kpis = Ok<'/api/v1/kpis', 'get'>;
/** N9: a planned outage, with when each home was told (notices). */
export type Outage = Ok<'/api/v1/outages', 'get'>[number];
/** N9: what a dispatcher fills in to announce a planned outage. */
export type OutageInput = BodyOf<'/api/v1/outages', 'post'>;
export type DeviceRow = Ok<'/api/v1/devices', 'get'>[number];
export type ProvisionResult = Ok<'/api/v1/devices', 'post'>;
export type DeadLetter = Ok<'/api/v1/dead-letters', 'get'>['items'][number];
export type ForecastRisk = Ok<'/api/v1/forecasts/risk', 'get'>;
export type ScenarioInfo = Ok<'/api/v1/replay/scenarios', 'get'>[number];
/** A replay run as GET /replay lists it. */
export type ReplayRunInfo = Ok<'/api/v1/replay', 'get'>[number];
export type ReplayStatus = ReplayRunInfo['status'];
/** What POST /replay answers. */
export type ReplayRun = Ok<'/api/v1/replay', 'post'>;
export type ReplayCity = Ok<'/api/v1/replay/{id}', 'get'>;
export type ReplayStation = Ok<'/api/v1/replay/{id}/stations/{stationId}', 'get'>;
export type ReplayUpload = Ok<'/api/v1/replay/files', 'post'>;

/** N20 fields of a complaint or measurement request created by hand (hotline) or by a resident. */
export type OrderInput = BodyOf<'/api/v1/orders', 'post'> & { readonly source?: 'complaint' | 'measurement' };
/** A lifecycle step exactly as the API accepts it: the domain's own union (domain/orders/order.schema.ts). */
export type OrderActionInput = PersonAction;

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
export type Fetch = (input: Request) => Promise<Response>;

/** openapi-fetch's answer: data on 2xx, the coded error otherwise. */
interface Answer<T> {
  readonly data?: T;
  readonly error?: unknown;
  readonly response: Response;
}

function ok<T>(r: Answer<T>): T {
  if (r.response.ok) return r.data as T;
  const e = (typeof r.error === 'object' && r.error !== null ? r.error : {}) as Partial<HeatError>;
  throw new ApiError(r.response.status, e.code ?? `HTTP_${r.response.status}`, e.message ?? r.response.statusText, e.details);
}

const id = (path: string) => ({ path: { id: path } });

export class ApiClient {
  token: string | undefined;
  readonly #http: Client<paths>;

  constructor(
    readonly baseUrl = '',
    fetchFn: Fetch = (req) => fetch(req),
  ) {
    this.#http = createClient<paths>({ baseUrl, fetch: fetchFn });
    this.#http.use({
      onRequest: ({ request }) => {
        if (this.token) request.headers.set('authorization', `Bearer ${this.token}`);
        return request;
      },
    });
  }

  // ---- auth
  async login(username: string, password: string): Promise<LoginResult> {
    const r = ok(await this.#http.POST('/api/v1/auth/login', { body: { username, password } }));
    this.token = r.token;
    return { token: r.token, user: r.person };
  }
  /** Ends this session on the server too (its sockets are disconnected there). */
  async logout(): Promise<void> {
    ok(await this.#http.POST('/api/v1/auth/logout'));
  }
  /** POST /auth/password: the current password and a new one (policy: docs/security.md). */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    ok(await this.#http.POST('/api/v1/auth/password', { body: { currentPassword, newPassword } }));
  }

  // ---- topology
  async stations(): Promise<Ok<'/api/v1/stations', 'get'>> {
    return ok(await this.#http.GET('/api/v1/stations'));
  }
  async station(stationId: string): Promise<Station> {
    return ok(await this.#http.GET('/api/v1/stations/{id}', { params: id(stationId) }));
  }
  async sources(): Promise<HeatSource[]> {
    return ok(await this.#http.GET('/api/v1/sources'));
  }
  async offices(): Promise<Office[]> {
    return ok(await this.#http.GET('/api/v1/offices'));
  }
  async buildings(stationId: string): Promise<Building[]> {
    return ok(await this.#http.GET('/api/v1/buildings', { params: { query: { stationId } } }));
  }
  async building(buildingId: string): Promise<BuildingDetail> {
    return ok(await this.#http.GET('/api/v1/buildings/{id}', { params: id(buildingId) }));
  }
  async apartments(buildingId: string): Promise<Apartment[]> {
    return ok(await this.#http.GET('/api/v1/apartments', { params: { query: { buildingId } } }));
  }
  async apartment(apartmentId: string): Promise<ApartmentDetail> {
    return ok(await this.#http.GET('/api/v1/apartments/{id}', { params: id(apartmentId) }));
  }
  async rooms(apartmentId: string): Promise<Room[]> {
    return ok(await this.#http.GET('/api/v1/apartments/{id}/rooms', { params: id(apartmentId) }));
  }
  /**
   * The city's policy (N2 standard, SLA clocks, heating curve) from GET /policy. No fallback:
   * another city's defaults would tell a Harbin resident 18 °C instead of 20 °C.
   */
  async policy(): Promise<HeatingPolicy> {
    return ok(await this.#http.GET('/api/v1/policy'));
  }

  // ---- measurements: GET /measurements?<scope> → { latest, history? }
  async latest(q: { stationId?: string; apartmentId?: string; roomId?: string }): Promise<LatestReading[]> {
    return ok(await this.#http.GET('/api/v1/measurements', { params: { query: q } })).latest;
  }
  async history(q: QueryOf<'/api/v1/measurements', 'get'> & { field: string; from: number; to: number }): Promise<HistoryPoint[]> {
    const { history = [] } = ok(await this.#http.GET('/api/v1/measurements', { params: { query: q } }));
    return history.flatMap((p) => (p.value === null ? [] : [{ ts: p.ts, value: p.value }])).sort((a, b) => a.ts - b.ts);
  }

  // ---- incidents, orders, KPIs, outages
  async incidents(q: QueryOf<'/api/v1/incidents', 'get'> = {}): Promise<Incident[]> {
    return ok(await this.#http.GET('/api/v1/incidents', { params: { query: q } }));
  }
  /** GET /incidents/:id → { incident, order } (order absent when none is linked). */
  async incident(incidentId: string): Promise<{ incident: Incident; order?: Order }> {
    const r = ok(await this.#http.GET('/api/v1/incidents/{id}', { params: id(incidentId) }));
    return r.order ? { incident: r.incident, order: r.order } : { incident: r.incident };
  }
  async orders(q: QueryOf<'/api/v1/orders', 'get'> = {}): Promise<Order[]> {
    return ok(await this.#http.GET('/api/v1/orders', { params: { query: q } }));
  }
  async order(orderId: string): Promise<Order> {
    return ok(await this.#http.GET('/api/v1/orders/{id}', { params: id(orderId) }));
  }
  /**
   * An order in the shape the board lists it: GET /orders gives every staff role the whole
   * record (SLA clocks, escalations), while GET /orders/:id defaults to the role's paper copy (the
   * team copy for station staff, N20). A live update of a board card must keep the card's shape,
   * or a station-staff card loses its SLA and escalation badges.
   */
  async boardOrder(orderId: string): Promise<Order> {
    return this.orderCopy(orderId, 'company');
  }
  /** N20: one of the paper form's three copies, exactly as the server projects it. */
  async orderCopy(orderId: string, view: OrderViewName): Promise<Order> {
    return ok(await this.#http.GET('/api/v1/orders/{id}', { params: { ...id(orderId), query: { view } } }));
  }
  /** The resident's own orders (their view: no staff notes). */
  async myOrders(apartmentId: string): Promise<ResidentOrder[]> {
    const list: Order[] = ok(await this.#http.GET('/api/v1/orders', { params: { query: { apartmentId } } }));
    return list.filter((o): o is ResidentOrder => 'timeline' in o);
  }
  /** POST /orders (complaint) or /measurement-requests → { linked, order }. */
  async createOrder(input: OrderInput): Promise<Order> {
    const { source, ...body } = input;
    const r =
      source === 'measurement'
        ? await this.#http.POST('/api/v1/measurement-requests', { body })
        : await this.#http.POST('/api/v1/orders', { body });
    return ok<{ order: Order }>(r).order;
  }
  /** A resident's complaint or measurement request (N10 / 测温流程), from the resident app. */
  residentRequest(apartmentId: string, source: 'complaint' | 'measurement', content: string): Promise<Order> {
    return this.createOrder({ apartmentId, source, content, channel: 'app' });
  }
  /** A lifecycle step: POST /orders/:id/<step> with the step's fields (domain/orders/order-steps.schema.ts ORDER_STEPS). */
  async act(orderId: string, action: OrderActionInput): Promise<Order> {
    const { type, ...body } = action;
    // ORDER_STEPS gives each action its route (the path type-checks against the generated
    // paths); which body goes with which step is the domain union PersonAction, the same
    // schema the route validates, so the body is not re-narrowed per step here.
    const path = `/api/v1/orders/{id}/${ORDER_STEPS[type].path}` as const;
    return ok<Order>(await this.#http.POST(path, { params: id(orderId), body: body as never }));
  }
  /** N7: the resident's rating after the callback. */
  async rate(orderId: string, satisfaction: number): Promise<Order> {
    return ok(await this.#http.POST('/api/v1/orders/{id}/rating', { params: id(orderId), body: { satisfaction } }));
  }
  async kpis(q: QueryOf<'/api/v1/kpis', 'get'> = {}): Promise<Kpis> {
    return ok(await this.#http.GET('/api/v1/kpis', { params: { query: q } }));
  }
  /** N9: announce a planned outage (POST /outages; refused with less than 48 h notice unless an emergency says why). */
  async announceOutage(input: OutageInput): Promise<Outage> {
    return ok(await this.#http.POST('/api/v1/outages', { body: input }));
  }
  async outages(q: QueryOf<'/api/v1/outages', 'get'> = {}): Promise<Outage[]> {
    return ok(await this.#http.GET('/api/v1/outages', { params: { query: q } }));
  }
  async forecastRisk(): Promise<ForecastRisk> {
    return ok(await this.#http.GET('/api/v1/forecasts/risk'));
  }

  // ---- engineer
  async devices(q: QueryOf<'/api/v1/devices', 'get'> = {}): Promise<DeviceRow[]> {
    return ok(await this.#http.GET('/api/v1/devices', { params: { query: q } }));
  }
  async provision(input: BodyOf<'/api/v1/devices', 'post'>): Promise<ProvisionResult> {
    return ok(await this.#http.POST('/api/v1/devices', { body: input }));
  }
  async setDeviceEnabled(deviceId: string, enabled: boolean): Promise<void> {
    ok(
      enabled
        ? await this.#http.POST('/api/v1/devices/{id}/enable', { params: id(deviceId) })
        : await this.#http.POST('/api/v1/devices/{id}/disable', { params: id(deviceId) }),
    );
  }
  async deadLetters(q: QueryOf<'/api/v1/dead-letters', 'get'> = {}): Promise<DeadLetter[]> {
    return ok(await this.#http.GET('/api/v1/dead-letters', { params: { query: q } })).items;
  }
  async scenarios(): Promise<ScenarioInfo[]> {
    return ok(await this.#http.GET('/api/v1/replay/scenarios'));
  }
  async replayRuns(): Promise<ReplayRunInfo[]> {
    return ok(await this.#http.GET('/api/v1/replay'));
  }
  async replayCity(runId: string): Promise<ReplayCity> {
    return ok(await this.#http.GET('/api/v1/replay/{id}', { params: id(runId) }));
  }
  async replayStation(runId: string, stationId: string): Promise<ReplayStation> {
    return ok(await this.#http.GET('/api/v1/replay/{id}/stations/{stationId}', { params: { path: { id: runId, stationId } } }));
  }
  /** A recording (CSV or line protocol) as the request body. */
  async uploadRecording(text: string, name: string): Promise<ReplayUpload> {
    return ok(
      await this.#http.POST('/api/v1/replay/files', {
        params: { query: { name } },
        body: text as never,
        bodySerializer: (b: unknown) => b as string,
        headers: { 'content-type': name.endsWith('.csv') ? 'text/csv' : 'text/plain' },
      }),
    );
  }
  async startReplay(input: BodyOf<'/api/v1/replay', 'post'>): Promise<ReplayRun> {
    return ok(await this.#http.POST('/api/v1/replay', { body: input }));
  }
  async stopReplay(runId: string): Promise<void> {
    ok(await this.#http.DELETE('/api/v1/replay/{id}', { params: id(runId) }));
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

/** The one client the app uses (same origin: the API serves the dashboard). */
export const api = new ApiClient();
