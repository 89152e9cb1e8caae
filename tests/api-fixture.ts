/**
 * Test fixture for the API integration tests: a small hand-built city in a real SQLite
 * records.db in a temp dir, the embedded reading store, a ManualClock, the demo people,
 * and fastify inject() helpers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ManualClock } from '../domain/clock.ts';
import { parseConfig } from '../domain/config.ts';
import { policyForCity } from '../domain/policy.ts';
import type { City, Device } from '../domain/topology.schema.ts';
import { RegistryRepository } from '../storage/records/registry.repository.ts';
import { EmbeddedStore } from '../storage/readings/embedded.store.ts';
import { DeadLetterRepository } from '../storage/readings/dead-letter.repository.ts';
import { buildApi, type ApiDeps } from '../api/app.ts';
import { DEMO_PASSWORD, seedDemoPeople } from '../api/demo-people.ts';

/** 2026-12-01 10:00 Beijing time: inside callback hours (N12) and the season (N1). */
export const T0 = Date.UTC(2026, 11, 1, 2, 0, 0);
export const ADMIN_PASSWORD = 'admin-test-password';

/** Offices o1 (station s1: buildings b1, b2) and o2 (station s2: building b3); 4 apartments per building, 2 rooms each. */
export function testCity(): { city: City; secrets: Map<string, string> } {
  const buildings = [
    { id: 'b1', stationId: 's1' },
    { id: 'b2', stationId: 's1' },
    { id: 'b3', stationId: 's2' },
  ].map((b, i) => ({
    ...b,
    name: `Building ${i + 1}`,
    address: `${i + 1} Test Road`,
    location: { lat: 39.9 + i / 100, lon: 116.4 },
    floors: 2,
    entrances: 1,
    unitsPerFloor: 2,
  }));
  const apartments = buildings.flatMap((b) =>
    [1, 2].flatMap((floor) =>
      [1, 2].map((unit) => ({
        id: `${b.id}-a${floor}${unit}`,
        buildingId: b.id,
        entrance: 1,
        floor,
        unit,
        number: `1-${floor}0${unit}`,
        areaM2: 60,
      })),
    ),
  );
  const rooms = apartments.flatMap((a) => [
    { id: `${a.id}-r1`, apartmentId: a.id, name: 'Bedroom', type: 'bedroom' as const, areaM2: 12 },
    { id: `${a.id}-r2`, apartmentId: a.id, name: 'Living room', type: 'living' as const, areaM2: 20 },
  ]);
  const devices: Device[] = [
    ...apartments.map((a) => ({ id: `rs-${a.id}`, kind: 'room_sensor' as const, roomId: `${a.id}-r1`, intervalMin: 10, enabled: true })),
    { id: 'sm-s1', kind: 'station_meter', stationId: 's1', intervalMin: 5, enabled: true },
    { id: 'sm-s2', kind: 'station_meter', stationId: 's2', intervalMin: 5, enabled: true },
  ];
  const city: City = {
    seed: 1,
    name: 'test',
    policyCity: 'beijing',
    sources: [{ id: 'src1', name: 'CHP 1', location: { lat: 39.8, lon: 116.3 } }],
    offices: [
      { id: 'o1', name: 'Office 1' },
      { id: 'o2', name: 'Office 2' },
    ],
    stations: [
      {
        id: 's1',
        name: 'Station 1',
        officeId: 'o1',
        sourceId: 'src1',
        branchId: 'br1',
        location: { lat: 39.9, lon: 116.4 },
        system: 'radiator',
      },
      {
        id: 's2',
        name: 'Station 2',
        officeId: 'o2',
        sourceId: 'src1',
        branchId: 'br1',
        location: { lat: 39.95, lon: 116.45 },
        system: 'radiator',
      },
    ],
    buildings,
    apartments,
    rooms,
    devices,
  };
  return { city, secrets: new Map(devices.map((d) => [d.id, `secret-${d.id}`])) };
}

export interface TestApi {
  readonly app: FastifyInstance;
  readonly clock: ManualClock;
  readonly registry: RegistryRepository;
  readonly store: EmbeddedStore;
  readonly dir: string;
  /** Bearer tokens by username (admin, dispatcher, manager, deputy-gm, gm, engineer, staff-o1, head-o1, staff-o2, head-o2, resident1, resident2). */
  readonly tokens: Record<string, string>;
  /** Sign everyone in again (sessions expire on the driven clock). */
  relogin(): Promise<void>;
  req(method: string, url: string, who?: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startTestApi(
  extra: Partial<ApiDeps> = {},
  opts: { city?: string; prepare?: (registry: RegistryRepository) => Promise<Partial<ApiDeps>> } = {},
): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'heat-api-'));
  const clock = new ManualClock(T0);
  const registry = RegistryRepository.open(dir);
  const { city, secrets } = testCity();
  registry.loadCity(city, secrets);
  seedDemoPeople(registry, { clock, residents: 2 });
  const store = EmbeddedStore.open(dir);
  const config = parseConfig({ DATA_DIR: dir, ADMIN_PASSWORD, CITY: opts.city ?? 'beijing' });
  const prepared = opts.prepare ? await opts.prepare(registry) : {};
  const app = await buildApi({
    config,
    registry,
    store,
    deadLetters: new DeadLetterRepository(registry.db),
    logger: pino({ level: 'silent' }),
    clock,
    policy: policyForCity(config.city),
    tickIntervalMs: 0,
    ...prepared,
    ...extra,
  });
  await app.ready();
  const tokens: Record<string, string> = {};
  const relogin = async (): Promise<void> => {
    for (const u of [
      'admin',
      'dispatcher',
      'manager',
      'deputy-gm',
      'gm',
      'engineer',
      'staff-o1',
      'head-o1',
      'staff-o2',
      'head-o2',
      'resident1',
      'resident2',
    ]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: u, password: u === 'admin' ? ADMIN_PASSWORD : DEMO_PASSWORD },
      });
      if (res.statusCode !== 200) throw new Error(`login ${u}: ${res.statusCode} ${res.body}`);
      tokens[u] = res.json<{ token: string }>().token;
    }
  };
  await relogin();
  return {
    app,
    clock,
    registry,
    store,
    dir,
    tokens,
    relogin,
    req: (method, url, who, body, headers = {}) =>
      app.inject({
        method: method as 'GET',
        url,
        headers: { ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}), ...headers },
        ...(body !== undefined ? (typeof body === 'string' ? { payload: body } : { payload: body as object }) : {}),
      }),
    async close() {
      await app.close();
      await store.close();
      registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Calls `onEmit` with each socket event the API sends to rooms from now on (every order and
 * incident push goes through io.to(rooms).emit, orders.service's pusher), then sends it.
 */
export function watchRoomEmits(t: TestApi, onEmit: (event: string, args: unknown[]) => void): void {
  const io = t.app.heat.io;
  const to = io.to.bind(io);
  io.to = (room: Parameters<typeof io.to>[0]) => {
    const op = to(room);
    const emit = op.emit.bind(op);
    op.emit = (ev: string, ...args: unknown[]) => {
      onEmit(ev, args);
      return (emit as (e: string, ...a: unknown[]) => boolean)(ev, ...args);
    };
    return op;
  };
}
