/**
 * The engineer console's replay over the real API: a scenario file runs through the rules
 * engine in a sandbox; progress and the incidents it finds reach the engineer's socket, and
 * nothing of it lands in the live incidents or orders.
 */
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, ReplayProgress, ServerToClientEvents } from '../domain/events.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { waitFor } from './harness/ports.ts';

let p: TestPlatform;
let token: string;
let socket: Socket<ServerToClientEvents, ClientToServerEvents>;

const post = (path: string, body: unknown) =>
  fetch(`${p.httpUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

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
  it('lists the scenario files', async () => {
    const r = await fetch(`${p.httpUrl}/api/v1/replay/scenarios`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual(expect.arrayContaining(['pump-failure', 'leak', 'air-lock', 'window-open', 'dead-sensor', 'cold-snap']));
  });

  it('runs a pump-failure scenario, pushing progress and its station incident, without touching live data', async () => {
    const progress: ReplayProgress[] = [];
    const incidents: IncidentEvent[] = [];
    socket.on('replay', (x) => progress.push(x));
    socket.on('incident', (e) => incidents.push(e));
    const ordersBefore = (await (await fetch(`${p.httpUrl}/api/v1/orders`, { headers: { authorization: `Bearer ${token}` } })).text()).length;

    const r = await post('/api/v1/replay', { scenario: 'pump-failure', speed: 10_000 });
    expect(r.status).toBe(202);
    const { runId } = (await r.json()) as { runId: string };
    await waitFor(() => progress.some((x) => x.runId === runId && x.finished), { timeoutMs: 60_000, what: 'replay finished' });
    const mine = progress.filter((x) => x.runId === runId);
    expect(mine.length).toBeGreaterThan(1);
    expect(mine.at(-1)).toMatchObject({ done: 1000, total: 1000, finished: true });
    expect(incidents.some((e) => e.type === 'opened' && e.incident.kind === 'station_fault' && e.incident.subjectId === 'st-0002' && e.incident.cause === 'station')).toBe(true);

    // Sandboxed: the live platform opened no order from the training run.
    const ordersAfter = (await (await fetch(`${p.httpUrl}/api/v1/orders`, { headers: { authorization: `Bearer ${token}` } })).text()).length;
    expect(ordersAfter).toBe(ordersBefore);
  });

  it('refuses unknown scenarios and files outside the replay folder', async () => {
    expect((await post('/api/v1/replay', { scenario: 'no-such-scenario', speed: 10 })).status).toBe(404);
    expect((await post('/api/v1/replay', { file: '../../etc/passwd', speed: 10 })).status).toBe(404);
  });
});
