/**
 * Issue 17: each service run alone reports its own durable write paths — `npm run broker` on
 * BROKER_HTTP_PORT, `npm run ingest` on INGEST_HTTP_PORT (GET /health and /metrics), `npm run
 * api` its records.db in /api/v1/health — not only the API under `npm start`. All three run as real processes (`node --import tsx <service>/server.ts`)
 * on one DATA_DIR in spool mode; the broker has the disk-fault wrapper
 * (tests/harness/disk-faults.preload.mjs) loaded, so its telemetry spool fails with ENOSPC,
 * its own /health says so, and it is ok again by itself once the disk is. Last, each stops cleanly on SIGTERM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../domain/topics.ts';
import { FIX_SERVICE_SECRET, fixDeviceSecret, seedFixtureRegistry, sensorId } from '../ingest/testing.fixture.ts';
import { freePort, waitFor } from './harness/ports.ts';
import { portOpen, serviceProcess, type ServiceProcess } from './harness/services.ts';

interface Health {
  status: 'ok' | 'degraded';
  service: string;
  writes: { path: string; failing: string | null; errors: number }[];
}

const dir = mkdtempSync(join(tmpdir(), 'alone-health-'));
const control = join(mkdtempSync(join(tmpdir(), 'alone-health-ctl-')), 'fault');
const preload = fileURLToPath(new URL('./harness/disk-faults.preload.mjs', import.meta.url));
let broker: ServiceProcess;
let ingest: ServiceProcess;
let api: ServiceProcess;
let apiHttp: number;
let mqttPort: number;
let brokerHttp: number;
let ingestHttp: number;

const health = async (port: number): Promise<Health> => (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Health;
const metrics = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const failing = async (port: number, path: string) => (await health(port)).writes.find((w) => w.path === path)?.failing ?? null;

/** One QoS 1 reading from a fresh connection: true on its PUBACK, false without one within 4 s. */
async function publish(k: number): Promise<boolean> {
  const id = sensorId(0);
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: id,
    username: id,
    password: fixDeviceSecret(id),
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const ok = await Promise.race([
    c.publishAsync(topics.telemetry(id), JSON.stringify({ ts: Date.now() - 600_000 + k * 1000, temp: 20 }), { qos: 1 }).then(
      () => true,
      () => false,
    ),
    new Promise<false>((r) => c.once('close', () => r(false))),
    new Promise<false>((r) => setTimeout(() => r(false), 4_000)),
  ]);
  c.end(true);
  return ok;
}

beforeAll(async () => {
  writeFileSync(control, '');
  seedFixtureRegistry(dir, 2).close();
  [mqttPort, brokerHttp, ingestHttp, apiHttp] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const common = { DATA_DIR: dir, HOST: '127.0.0.1', SERVICE_SECRET: FIX_SERVICE_SECRET, INGEST_FEED: 'spool', REDIS_URL: '' };
  broker = serviceProcess(
    'broker',
    {
      ...common,
      MQTT_PORT: String(mqttPort),
      MQTT_WS_PORT: '0',
      BROKER_HTTP_PORT: String(brokerHttp),
      DISK_FAULT_FILE: control,
      DISK_FAULT_MATCH: dir,
    },
    () => portOpen(brokerHttp),
    ['--import', preload],
  );
  ingest = serviceProcess(
    'ingest',
    { ...common, MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`, INGEST_HTTP_PORT: String(ingestHttp), INGEST_RULES: '0' },
    () => portOpen(ingestHttp),
  );
  api = serviceProcess(
    'api',
    { ...common, MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`, HTTP_PORT: String(apiHttp), DEMO: '0', ADMIN_PASSWORD: 'admin-alone-password' },
    () => portOpen(apiHttp),
  );
  await broker.start();
  await ingest.start();
  await api.start();
}, 300_000);

afterAll(async () => {
  writeFileSync(control, '');
  await api?.kill('SIGTERM');
  await ingest?.kill('SIGTERM');
  await broker?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run broker / npm run ingest alone: their own /health and /metrics', () => {
  it('each lists its own write paths, ok while they take writes', async () => {
    const b = await health(brokerHttp);
    expect(b).toMatchObject({ status: 'ok', service: 'broker' });
    expect(b.writes.map((w) => w.path)).toEqual(['broker.journal', 'broker.spool']);
    const i = await health(ingestHttp);
    expect(i).toMatchObject({ status: 'ok', service: 'ingest' });
    expect(i.writes.map((w) => w.path)).toEqual(['ingest.store', 'ingest.deadLetters']);
    expect(await metrics(brokerHttp)).toContain('heat_write_path_failing{path="broker.spool"} 0');
    expect(await metrics(brokerHttp)).toMatch(/^heat_broker_/m); // the broker's own metrics too
    expect(await metrics(ingestHttp)).toContain('heat_write_path_failing{path="ingest.store"} 0');
    expect(await metrics(ingestHttp)).toContain('heat_ingest_spool_backlog');
    expect((await fetch(`http://127.0.0.1:${brokerHttp}/nope`)).status).toBe(404);
    // The API alone: its own write path is records.db (`records`); the others' are theirs to report.
    const a = (await (await fetch(`http://127.0.0.1:${apiHttp}/api/v1/health`)).json()) as Health & { records: boolean };
    expect(a).toMatchObject({ status: 'ok', records: true, writes: [] });
    expect(await (await fetch(`http://127.0.0.1:${apiHttp}/metrics`)).text()).toContain('heat_api_records_writable 1');
  });

  it("the broker's spool on a full disk: no PUBACK, its /health degraded; ok again by itself", async () => {
    expect(await publish(0)).toBe(true);
    writeFileSync(control, 'ENOSPC /spool/');
    await new Promise((r) => setTimeout(r, 100)); // the wrapper re-reads its control file every 20 ms
    expect(await publish(1)).toBe(false);
    await waitFor(async () => (await failing(brokerHttp, 'broker.spool'))?.includes('ENOSPC'), { what: 'broker.spool failing' });
    expect((await health(brokerHttp)).status).toBe('degraded');
    expect(await metrics(brokerHttp)).toContain('heat_write_path_failing{path="broker.spool"} 1');
    expect(broker.running()).toBe(true);
    writeFileSync(control, '');
    await waitFor(async () => (await publish(2)) && (await health(brokerHttp)).status === 'ok', {
      timeoutMs: 30_000,
      what: 'spool takes writes again',
    });
    expect((await health(ingestHttp)).status).toBe('ok');
    expect(broker.running() && ingest.running()).toBe(true);
  }, 90_000);

  it('each stops by itself on SIGTERM with exit code 0 (storage/shutdown.ts), not killed after the grace period', async () => {
    for (const svc of [api, ingest, broker]) {
      await svc.kill('SIGTERM');
      expect({ name: svc.name, ...svc.exit() }).toEqual({ name: svc.name, code: 0, signal: null });
    }
  }, 60_000);
});
