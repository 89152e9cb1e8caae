/**
 * Issue 13 finding 7: scryptSync per login ran on the event loop, so 8 parallel login loops
 * took /health from 5 ms to 571 ms median. Now scrypt runs in the thread pool: 20 clients
 * sign in back to back for 3 s (real HTTP, each a real scrypt; right passwords, so the
 * throttle never short-cuts one) while /api/v1/health is probed every 10 ms, and the
 * probes' p95 stays under 50 ms. A single burst of 20 is not enough to show the old
 * blocking (each probe then waited about one hash), a sustained load is.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecurityApi, type SecurityApi } from './security-fixture.ts';

let t: SecurityApi;
beforeAll(async () => {
  t = await startSecurityApi();
});
afterAll(async () => {
  probeAgent.destroy();
  await t?.close();
});

function post(port: number, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** One kept-alive connection for the probes: the figure is the server's answer time, not TCP set-up. */
const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });

function timedGet(port: number, path: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: probeAgent }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - start));
    })
      .on('error', reject)
      .end();
  });
}

const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1]!;

describe('logins do not stall the event loop', () => {
  it('keeps /health under 50 ms p95 while 20 clients sign in back to back', async () => {
    const users = ['dispatcher', 'manager', 'engineer', 'staff-o1', 'head-o1', 'staff-o2', 'head-o2', 'resident1', 'resident2', 'admin'];
    // Warm up, and the idle figure for the log.
    const idle: number[] = [];
    for (let i = 0; i < 30; i++) idle.push(await timedGet(t.port, '/api/v1/health'));
    const latencies: number[] = [];
    let running = true;
    const prober = (async () => {
      while (running) {
        latencies.push(await timedGet(t.port, '/api/v1/health'));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const started = performance.now();
    const codes: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const u = users[i % users.length]!;
        const password = u === 'admin' ? 'admin-test-password' : 'heatwatch-demo';
        while (performance.now() - started < 3_000) codes.push(await post(t.port, '/api/v1/auth/login', { username: u, password }));
      }),
    );
    const loginMs = performance.now() - started;
    running = false;
    await prober;
    expect(codes.length).toBeGreaterThanOrEqual(20);
    expect(codes.every((c) => c === 200)).toBe(true);
    expect(latencies.length).toBeGreaterThan(5);
    console.log(
      `idle /health p95 ${p95(idle).toFixed(1)} ms; ${codes.length} logins by 20 clients in ${loginMs.toFixed(0)} ms; /health over ${latencies.length} probes: p95 ${p95(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    expect(p95(latencies)).toBeLessThan(50);
  }, 60_000);
});
