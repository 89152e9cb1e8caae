/**
 * Cluster mode: two broker processes sharing a throwaway Debian redis-server
 * (mqemitter-redis + aedes-persistence-redis). A reading published on node A reaches the
 * ingest on node B; readings queued while the ingest is offline reach it on either node; a
 * SUBSCRIBE of several filters in one packet (what the ingest and the API send) is answered.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../domain/topics.ts';
import {
  SERVICE_SECRET,
  connectDevice,
  connectService,
  parkIngestSession,
  resumeIngestSession,
  seedRegistry,
  subackCodes,
} from '../broker/testing.fixture.ts';
import { RegistryRepository } from '../storage/records/registry.repository.ts';
import { freePort, waitFor } from './harness/ports.ts';
import { portOpen } from './harness/services.ts';

const run = promisify(execFile);

/** `p`, or a rejection naming `what` after `ms` (a SUBACK that never comes must fail, not hang). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('broker: two-node cluster over Redis', () => {
  let dataDir: string;
  const procs: ChildProcess[] = [];
  let redisPort: number;
  let portA: number;
  let portB: number;
  let log = '';

  const launch = async (cmd: string, args: string[], env: Record<string, string>, port: number) => {
    const c = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    c.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    procs.push(c);
    await waitFor(
      async () => {
        if (c.exitCode !== null) throw new Error(`${cmd} exited ${c.exitCode}: ${log}`);
        return portOpen(port);
      },
      { timeoutMs: 30_000, what: `${cmd} on ${port}` },
    );
  };

  const broker = (port: number) =>
    launch(
      process.execPath,
      ['--import', 'tsx', join(root, 'broker', 'server.ts')],
      {
        DATA_DIR: dataDir,
        MQTT_PORT: String(port),
        MQTT_WS_PORT: '0',
        HOST: '127.0.0.1',
        SERVICE_SECRET,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        LOG_LEVEL: 'warn',
        TLS_CERT_FILE: '',
        TLS_KEY_FILE: '',
      },
      port,
    );

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'broker-cluster-'));
    seedRegistry(dataDir).close();
    [redisPort, portA, portB] = [await freePort(), await freePort(), await freePort()];
    await launch('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {}, redisPort);
    // An open port is not a ready server: wait until it answers PING (not "LOADING").
    await waitFor(
      async () => {
        const r = await run('redis-cli', ['-p', String(redisPort), 'ping']).catch(() => ({ stdout: '' }));
        return r.stdout.trim() === 'PONG';
      },
      { what: 'redis PONG' },
    );
    await broker(portA);
    await broker(portB);
  }, 120_000);

  afterAll(async () => {
    for (const c of procs.reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('routes a reading from a device on node A to the ingest on node B', async () => {
    const ingest = await connectService(`mqtt://127.0.0.1:${portB}`, 'svc-ingest', { clean: false });
    const got: string[] = [];
    ingest.on('message', (_t, p) => got.push(p.toString()));
    await ingest.subscribeAsync(topics.allTelemetry[0], { qos: 1 });

    const dev = await connectDevice(`mqtt://127.0.0.1:${portA}`, 'dev-a');
    await dev.publishAsync(topics.telemetry('dev-a'), '{"ts":1,"temp":21}', { qos: 1 });
    await waitFor(() => got.includes('{"ts":1,"temp":21}'), { what: 'reading across nodes' });

    // Ingest offline: readings published on A are queued in Redis and delivered when it
    // comes back, here on node A.
    await ingest.endAsync();
    for (let n = 2; n <= 6; n++) await dev.publishAsync(topics.telemetry('dev-a'), `{"ts":${n},"temp":21}`, { qos: 1 });
    await dev.publishAsync(topics.status('dev-a'), 'online', { qos: 1 });
    const later = new Set<string>();
    const back = resumeIngestSession(`mqtt://127.0.0.1:${portA}`, (_t, p) => later.add(p.toString()));
    await waitFor(() => later.size >= 5, { what: 'queued readings after reconnect', timeoutMs: 45_000 }).catch((e: Error) => {
      throw new Error(`${e.message}: got ${[...later].join(' ')}`);
    });
    expect([...later].sort()).toEqual([2, 3, 4, 5, 6].map((n) => `{"ts":${n},"temp":21}`));
    await back.endAsync();
    await dev.endAsync();
  }, 150_000);

  it('answers a SUBSCRIBE of three filters, and a persistent session keeps them across nodes', async () => {
    const urlA = `mqtt://127.0.0.1:${portA}`;
    const urlB = `mqtt://127.0.0.1:${portB}`;
    // Start from no session (the test above leaves svc-ingest's in Redis).
    await (await connectService(urlB, 'svc-ingest', { clean: true })).endAsync();

    // The ingest's own SUBSCRIBE: both telemetry filters and the registry topic in one packet.
    const filters = [...topics.allTelemetry, topics.registryChanged];
    const sub = await connectService(urlB, 'svc-ingest', { clean: false });
    const onB: { topic: string; payload: string; qos: number }[] = [];
    sub.on('message', (topic, p, packet) => onB.push({ topic, payload: p.toString(), qos: packet.qos }));
    const granted = await within(10_000, 'SUBACK for a SUBSCRIBE of 3 filters', sub.subscribeAsync(filters, { qos: 1 }));
    expect(granted.map((g) => [g.topic, g.qos])).toEqual(filters.map((f) => [f, 1]));

    // QoS 1 from a device on A reaches the persistent subscriber on B, at QoS 1.
    const dev = await connectDevice(urlA, 'dev-a');
    await dev.publishAsync(topics.telemetry('dev-a'), '{"ts":101,"temp":20}', { qos: 1 });
    await waitFor(() => onB.some((m) => m.payload === '{"ts":101,"temp":20}'), { what: 'QoS 1 reading from A on B' });
    expect(onB.find((m) => m.payload === '{"ts":101,"temp":20}')).toEqual({
      topic: topics.telemetry('dev-a'),
      payload: '{"ts":101,"temp":20}',
      qos: 1,
    });
    await sub.endAsync();

    // Offline: a reading and a registry notice published on A are queued for the session.
    const api = await connectService(urlA, 'svc-api');
    await dev.publishAsync(topics.telemetry('dev-a'), '{"ts":102,"temp":20}', { qos: 1 });
    await api.publishAsync(topics.registryChanged, '{"deviceId":"dev-a","change":"secret"}', { qos: 1 });

    // The session resumes on the other node (A): present, its queue delivered, and its three
    // subscriptions live there without a new SUBSCRIBE.
    const onA: string[] = [];
    const back = resumeIngestSession(urlA, (_t, p) => onA.push(p.toString()));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
      back.once('connect', resolve);
      back.once('error', reject);
    });
    expect(connack.sessionPresent).toBe(true);
    await waitFor(() => onA.length >= 2, { what: 'queued messages on A', timeoutMs: 20_000 }).catch((e: Error) => {
      throw new Error(`${e.message}: got ${onA.join(' ')}`);
    });
    expect([...onA].sort()).toEqual(['{"deviceId":"dev-a","change":"secret"}', '{"ts":102,"temp":20}']);
    const devB = await connectDevice(urlB, 'dev-b');
    await devB.publishAsync(topics.telemetry('dev-b'), '{"ts":103,"temp":20}', { qos: 1 });
    await api.publishAsync(topics.registryChanged, '{"deviceId":"dev-b","change":"secret"}', { qos: 1 });
    await waitFor(() => onA.includes('{"ts":103,"temp":20}') && onA.includes('{"deviceId":"dev-b","change":"secret"}'), {
      what: 'live messages through the restored subscriptions',
    });
    for (const c of [back, api, dev, devB]) await c.endAsync();
  }, 60_000);

  it('stores no refused filter for a persistent session (Redis store)', async () => {
    const urlA = `mqtt://127.0.0.1:${portA}`;
    const urlB = `mqtt://127.0.0.1:${portB}`;
    await (await connectService(urlB, 'svc-ingest', { clean: true })).endAsync();
    const ingest = await connectService(urlB, 'svc-ingest', { clean: false });
    const config = topics.config('dev-a');
    expect(await subackCodes(ingest, [topics.allTelemetry[0], config], 1)).toEqual([1, 128]);
    await ingest.endAsync();
    const api = await connectService(urlA, 'svc-api');
    await api.publishAsync(config, '{"n":1}', { qos: 1 });
    const dev = await connectDevice(urlA, 'dev-a');
    await dev.publishAsync(topics.telemetry('dev-a'), '{"ts":201,"temp":20}', { qos: 1 });
    const later: string[] = [];
    const back = resumeIngestSession(urlA, (t, p) => later.push(`${t} ${p.toString()}`));
    await waitFor(() => later.length >= 1, { what: 'the queued reading' });
    // A barrier: published after the reconnect, so it arrives after anything queued before.
    await dev.publishAsync(topics.telemetry('dev-a'), '{"ts":202,"temp":20}', { qos: 1 });
    await waitFor(() => later.some((m) => m.endsWith('{"ts":202,"temp":20}')), { what: 'the live reading' });
    expect(later).toEqual([`${topics.telemetry('dev-a')} {"ts":201,"temp":20}`, `${topics.telemetry('dev-a')} {"ts":202,"temp":20}`]);
    for (const c of [back, api, dev]) await c.endAsync();
  }, 60_000);

  it('sends a reconnecting session its whole backlog (past the store default of 1,000), and empties its Redis queue as it is acknowledged', async () => {
    const urlA = `mqtt://127.0.0.1:${portA}`;
    const urlB = `mqtt://127.0.0.1:${portB}`;
    await (await connectService(urlA, 'svc-ingest', { clean: true })).endAsync();
    await parkIngestSession(urlA);
    // 2,500 readings on B while the ingest is offline: a small outage's backlog (published by
    // the replay account, which a device's 20/s allowance does not hold back).
    const total = 2_500;
    const dev = await connectService(urlB, 'svc-sim');
    for (let n = 0; n < total; n += 250) {
      await Promise.all(
        Array.from({ length: 250 }, (_, k) => dev.publishAsync(topics.telemetry('dev-a'), `{"ts":${1_000 + n + k},"temp":19}`, { qos: 1 })),
      );
    }
    const queued = async () => Number((await run('redis-cli', ['-p', String(redisPort), 'llen', 'outgoing:svc-ingest'])).stdout.trim());
    expect(await queued()).toBe(total);
    const got = new Set<string>();
    const back = resumeIngestSession(urlB, (_t, p) => got.add(p.toString()));
    await waitFor(() => got.size >= total, { what: `${total} queued readings after reconnect`, timeoutMs: 60_000 }).catch((e: Error) => {
      throw new Error(`${e.message}: got ${got.size}`);
    });
    expect(got.size).toBe(total);
    // MQTT.js acknowledges each as it arrives: every PUBACK removes its own entry, none is left
    // to be sent again on the next connection.
    await waitFor(async () => (await queued()) === 0, { what: 'the Redis queue emptied by the PUBACKs', timeoutMs: 30_000 }).catch(
      async (e: Error) => {
        throw new Error(`${e.message}: ${await queued()} left`);
      },
    );
    for (const c of [back, dev]) await c.endAsync();
  }, 150_000);

  it('refuses a wrong secret on either node', async () => {
    for (const port of [portA, portB]) {
      const code = await mqtt
        .connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'dev-b', username: 'dev-b', password: 'nope', reconnectPeriod: 0 })
        .then(async (c) => (await c.endAsync(), 0))
        .catch((e: { code?: number }) => e.code);
      expect(code).toBe(5);
    }
  });

  it('kicks a device on node A when the registry change is announced on node B', async () => {
    const dev = await connectDevice(`mqtt://127.0.0.1:${portA}`, 'dev-b');
    const gone = new Promise<void>((resolve) => dev.once('close', () => resolve()));
    const registry = RegistryRepository.open(dataDir);
    registry.setDeviceEnabled('dev-b', false);
    registry.close();
    const api = await connectService(`mqtt://127.0.0.1:${portB}`, 'svc-api');
    await api.publishAsync(topics.registryChanged, JSON.stringify({ deviceId: 'dev-b', change: 'disabled' }), { qos: 1 });
    await gone;
    expect(dev.connected).toBe(false);
    await api.endAsync();
  });
});
