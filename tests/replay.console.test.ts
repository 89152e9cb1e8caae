/**
 * The engineer console's replay over the real API: a scenario file (or an uploaded recording)
 * runs through the rules engine in a sandbox; progress reaches the engineer's socket, the run
 * and its city stay readable from GET /replay, and nothing of it lands in the live incidents,
 * sockets or orders.
 */
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, ReplayProgress, ServerToClientEvents } from '../domain/events.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import type { ReplayCity, ReplayRun, ReplayStation, ScenarioInfo } from '../domain/replay.schema.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { waitFor } from './harness/ports.ts';

let p: TestPlatform;
let token: string;
let socket: Socket<ServerToClientEvents, ClientToServerEvents>;

const get = async (path: string, status = 200): Promise<unknown> => {
  const r = await fetch(`${p.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(status);
  return r.json();
};
const post = (path: string, body: unknown) =>
  fetch(`${p.httpUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  p = await startTestPlatform({ fleetSpeed: false });
  token = await login(p.httpUrl, 'engineer', 'heatwatch-demo');
  socket = io(p.httpUrl, { auth: { token }, transports: ['websocket'] });
  await waitFor(() => socket.connected, { what: 'socket connected' });
});

afterAll(async () => {
  socket?.close();
  await p?.stop();
});

describe('engineer replay console', () => {
  it('lists the scenario files with their names and descriptions in Chinese and English', async () => {
    const r = await fetch(`${p.httpUrl}/api/v1/replay/scenarios`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    const list = (await r.json()) as ScenarioInfo[];
    expect(list.map((s) => s.id)).toEqual(
      expect.arrayContaining(['pump-failure', 'leak', 'air-lock', 'window-open', 'dead-sensor', 'cold-snap']),
    );
    for (const s of list) {
      expect(s.title['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
      expect(s.summary['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
      expect(s.title.en).toMatch(/^[A-Z]/);
      expect(s.end).toBeGreaterThan(s.start);
    }
    expect(list.find((s) => s.id === 'pump-failure')?.title['zh-CN']).toBe('换热站循环泵故障');
  });

  it('runs a pump-failure scenario, pushing progress and its station incident, without touching live data', async () => {
    const progress: ReplayProgress[] = [];
    const incidents: IncidentEvent[] = [];
    socket.on('replay', (x) => progress.push(x));
    socket.on('incident', (e) => incidents.push(e)); // live incidents only: a replay must send none
    const ordersBefore = (await (await fetch(`${p.httpUrl}/api/v1/orders`, { headers: { authorization: `Bearer ${token}` } })).text())
      .length;

    const r = await post('/api/v1/replay', { scenario: 'pump-failure', speed: 10_000 });
    expect(r.status).toBe(202);
    const { runId } = (await r.json()) as { runId: string };
    await waitFor(() => progress.some((x) => x.runId === runId && x.finished), { timeoutMs: 60_000, what: 'replay finished' });
    const mine = progress.filter((x) => x.runId === runId);
    expect(mine.length).toBeGreaterThan(1);
    expect(mine.at(-1)).toMatchObject({ done: 1000, total: 1000, finished: true });
    expect(incidents).toEqual([]);

    // The run outlives the page: listed, with its own city and what the rules found in it.
    const runs = (await get('/api/v1/replay')) as ReplayRun[];
    expect(runs.find((x) => x.id === runId)).toMatchObject({
      scenario: 'pump-failure',
      status: 'finished',
      speed: 10_000,
      title: { 'zh-CN': '换热站循环泵故障' },
    });
    const city = (await get(`/api/v1/replay/${runId}`)) as ReplayCity;
    expect(city.stations.map((s) => s.id)).toContain('st-0002');
    // Named for the console: every open incident's station, building or apartment by its name or address.
    for (const i of city.incidents.filter((x) => x.subjectType !== 'device'))
      expect(city.subjects[i.subjectId], i.subjectId).toMatch(/[\u4e00-\u9fff]/);
    // At the end of the day the pump runs again: the map shows the run's present, the station its history.
    expect(city.incidents.every((i) => i.status === 'open')).toBe(true);
    expect(city.counts['st-0002']!.monitored).toBeGreaterThan(0);
    const st = (await get(`/api/v1/replay/${runId}/stations/st-0002`)) as ReplayStation;
    expect(
      st.incidents.some((i) => i.kind === 'station_fault' && i.subjectId === 'st-0002' && i.cause === 'station' && i.status === 'resolved'),
    ).toBe(true);
    expect(st.incidents.filter((i) => i.kind === 'apartment_cold' && i.cause === 'station').length).toBeGreaterThan(0);
    expect(st.meter?.fields.pumpHz).toBeGreaterThan(5);
    // The station view's charts: the run's own meter series, showing the pump standing still and running again.
    const pump = st.series!.fields.pumpHz!;
    expect(st.series!.bucketMs).toBe(10 * 60_000);
    expect(pump.length).toBeGreaterThan(100);
    expect(pump.some((x) => x.value < 1)).toBe(true);
    expect(pump.at(-1)!.value).toBeGreaterThan(5);
    expect(pump.every((x, i) => i === 0 || x.ts > pump[i - 1]!.ts)).toBe(true);
    expect(Object.keys(st.apartmentValues).length).toBeGreaterThan(0);
    expect(st.apartments.every((a) => st.buildings.some((b) => b.id === a.buildingId))).toBe(true);

    // Sandboxed: the live platform opened no order from the training run.
    const ordersAfter = (await (await fetch(`${p.httpUrl}/api/v1/orders`, { headers: { authorization: `Bearer ${token}` } })).text())
      .length;
    expect(ordersAfter).toBe(ordersBefore);
  });

  it('refuses unknown scenarios, paths instead of uploaded names, and speeds past 10,000×', async () => {
    expect((await post('/api/v1/replay', { scenario: 'no-such-scenario', speed: 10 })).status).toBe(404);
    expect((await post('/api/v1/replay', { file: '../../etc/passwd', speed: 10 })).status).toBe(400);
    expect((await post('/api/v1/replay', { file: 'never-uploaded.csv', speed: 10 })).status).toBe(404);
    expect((await post('/api/v1/replay', { scenario: 'leak', speed: 100_000 })).status).toBe(400);
    expect(await get('/api/v1/replay/no-such-run', 404)).toBeDefined();
  });

  it('replays a recording uploaded as the request body, and refuses what is not one', async () => {
    const dev = p.registry.listDevices({ kind: 'room_sensor' })[0]!;
    const t0 = Date.UTC(2026, 11, 2, 0, 0);
    const rows = Array.from({ length: 30 }, (_, k) => `${t0 + k * 600_000},${dev.id},${k < 5 ? 20 : 12}`);
    const csv = ['ts,deviceId,temp', ...rows].join('\n') + '\n';
    const up = await fetch(`${p.httpUrl}/api/v1/replay/files?name=morning.csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(up.status).toBe(201);
    const { file, format, bytes } = (await up.json()) as { file: string; format: string; bytes: number };
    expect({ format, bytes }).toEqual({ format: 'csv', bytes: Buffer.byteLength(csv) });
    const r = await post('/api/v1/replay', { file, speed: 10_000 });
    expect(r.status).toBe(202);
    const { runId } = (await r.json()) as { runId: string };
    const run = await waitFor(
      async () => ((await get('/api/v1/replay')) as ReplayRun[]).find((x) => x.id === runId && x.status !== 'running'),
      { timeoutMs: 30_000, what: 'upload replay finished' },
    );
    expect(run).toMatchObject({ file, status: 'finished', readings: 30 });

    const bad = await fetch(`${p.httpUrl}/api/v1/replay/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: 'hello world',
    });
    expect(bad.status).toBe(400);
    const big = await fetch(`${p.httpUrl}/api/v1/replay/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: 'x'.repeat(21 * 1024 * 1024),
    });
    expect(big.status).toBe(413);
  });
});
