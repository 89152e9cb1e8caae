/**
 * Issue 13, finding 2: a device named like a service account broke the platform for good.
 * The broker looked devices up first and `POST /devices` (and the CSV import) accepted
 * `svc-api`: such a device took the API's MQTT session over, and the API could not get back
 * in (`/health` mqtt:false, also after a restart). There was no device delete, and the
 * three services shared one secret. Now: `svc-` is reserved (any case) at provisioning and
 * import, the broker resolves service accounts first, each service has its own secret, and
 * `DELETE /api/v1/devices/{id}` removes a device and closes its live session at once.
 * The whole platform as `npm start` runs it (zero configuration), real MQTT.js and
 * mosquitto_pub clients, the public REST API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../../api/demo-people.ts';
import { parseConfig } from '../../domain/config.ts';
import { topics } from '../../domain/topics.ts';
import { startPlatform, type Platform } from '../../start.ts';
import { hashDeviceSecret } from '../../storage/records/secrets.ts';
import { login } from '../harness/platform.ts';
import { freePort, waitFor } from '../harness/ports.ts';
import { mosquittoPub } from './broker-clients.ts';

const ADMIN_PASSWORD = 'admin-svc-namespace-test';

describe('identity namespaces: devices can never be service accounts (finding 2)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let p: Platform;
  let engineer: string;
  let admin: string;

  /** startPlatform exactly as `npm start` does it, on a DATA_DIR that survives a restart. No SERVICE_SECRET. */
  const start = () => startPlatform({ config: parseConfig(env), logger: pino({ level: 'warn' }), fleetSpeed: false });
  const api = async (method: string, path: string, token: string, body?: unknown, type = 'application/json') => {
    const r = await fetch(`${p.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': type } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json().catch(() => null)) as Record<string, unknown> | null };
  };
  const health = async () => (await (await fetch(`${p.httpUrl}/api/v1/health`)).json()) as { mqtt: boolean };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'svc-namespace-'));
    env = {
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      MQTT_PORT: String(await freePort()),
      MQTT_WS_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
      ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
    };
    p = await start();
    await waitFor(async () => (await health()).mqtt, { what: 'API connected to the broker' });
    engineer = await login(p.httpUrl, 'engineer', DEMO_PASSWORD);
    admin = await login(p.httpUrl, 'admin', ADMIN_PASSWORD);
  });

  afterAll(async () => {
    await p?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses svc- device ids (any case) at provisioning with a 400 naming the field', async () => {
    const station = p.registry.listStations()[0]!.id;
    for (const id of ['svc-api', 'svc-ingest', 'SVC-api', 'Svc-new-thing']) {
      const r = await api('POST', '/api/v1/devices', engineer, { id, kind: 'station_meter', stationId: station });
      expect(r.status, id).toBe(400);
      expect(JSON.stringify(r.body)).toContain('body/id');
    }
    expect(p.registry.getDevice('svc-api')).toBeUndefined();
    expect((await health()).mqtt).toBe(true);
  });

  it('refuses svc- device ids in the CSV device import with a row error, importing nothing', async () => {
    const station = p.registry.listStations()[0]!.id;
    const csv = `id,kind,stationId\nmeter-ok-1,station_meter,${station}\nsvc-api,station_meter,${station}\n`;
    const r = await api('POST', '/api/v1/import/devices', admin, csv, 'text/csv');
    expect(r.status).toBe(422);
    const errors = (r.body as { details?: { errors?: { row: number; field: string; message: string }[] } }).details?.errors ?? [];
    expect(errors).toContainEqual(expect.objectContaining({ row: 3, field: 'id', message: expect.stringContaining('svc-') }));
    expect(p.registry.getDevice('meter-ok-1')).toBeUndefined();
  });

  it('resolves service accounts first: a svc-api device record (from an older install) cannot take the API session over, also across a restart', async () => {
    // What an install that once accepted the device holds in its registry.
    const h = hashDeviceSecret('device-secret-of-svc-api');
    p.registry.db
      .prepare('INSERT INTO devices (id, kind, interval_min, enabled, secret_hash, secret_salt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run('svc-api', 'room_sensor', 5, 1, h.hash, h.salt, Date.now());
    const r = await mosquittoPub({ port: p.ports.mqtt, id: 'svc-api', password: 'device-secret-of-svc-api' });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/not authori[sz]ed/i);
    await new Promise((res) => setTimeout(res, 500));
    expect((await health()).mqtt).toBe(true);

    await p.stop();
    p = await start();
    await waitFor(async () => (await health()).mqtt, { what: 'API back on the broker after a restart' });
    engineer = await login(p.httpUrl, 'engineer', DEMO_PASSWORD);
    // And the operator can remove it.
    expect((await api('DELETE', '/api/v1/devices/svc-api', engineer)).status).toBe(200);
  });

  it("gives each service its own secret: svc-sim's opens neither svc-ingest nor svc-api", async () => {
    const sim = p.serviceSecrets['svc-sim'];
    expect(new Set(Object.values(p.serviceSecrets)).size).toBe(3);
    const ok = await mosquittoPub({
      port: p.ports.mqtt,
      id: 'svc-sim-t',
      username: 'svc-sim',
      password: sim,
      topic: topics.telemetry(p.registry.listDevices({ limit: 1 })[0]!.id),
    });
    expect(ok.code, ok.out).toBe(0);
    for (const account of ['svc-ingest', 'svc-api']) {
      const r = await mosquittoPub({ port: p.ports.mqtt, id: `${account}-x`, username: account, password: sim, topic: topics.config('x') });
      expect(r.code, account).not.toBe(0);
      expect(r.out).toMatch(/not authori[sz]ed/i);
    }
  });

  it('deletes a device (admin/engineer only): it is gone from the registry and its live session is closed at once', async () => {
    const device = p.registry.listDevices({ kind: 'room_sensor', limit: 1 })[0]!;
    const secret = p.deviceSecrets.get(device.id)!;
    const c: MqttClient = await mqtt.connectAsync(p.mqttUrl, {
      clientId: device.id,
      username: device.id,
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
      clean: false,
    });
    const closed = new Promise<number>((resolve) => c.once('close', () => resolve(performance.now())));

    const dispatcher = await login(p.httpUrl, 'dispatcher', DEMO_PASSWORD);
    expect((await api('DELETE', `/api/v1/devices/${device.id}`, dispatcher)).status).toBe(403);
    expect(c.connected).toBe(true);

    const t0 = performance.now();
    const r = await api('DELETE', `/api/v1/devices/${device.id}`, engineer);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ deleted: device.id, published: true });
    expect((await closed) - t0).toBeLessThan(2_000);
    expect((await api('GET', `/api/v1/devices/${device.id}`, engineer)).status).toBe(404);
    expect((await api('DELETE', `/api/v1/devices/${device.id}`, engineer)).status).toBe(404);
    const again = await mosquittoPub({ port: p.ports.mqtt, id: device.id, password: secret });
    expect(again.code).not.toBe(0);
    const audit = await api('GET', '/api/v1/audit?entity=device', admin);
    expect(JSON.stringify(audit.body)).toContain(device.id);
    await c.endAsync(true);
  });
});
