/**
 * The device fleet against the real broker (broker/app.ts) with a registry loaded from the
 * generated city: per-device connections with their seeded secrets, gateways, retained
 * status, QoS 1 telemetry, and the backlog a device sends after a network outage.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { ManualClock, MINUTE_MS } from '../domain/clock.ts';
import { parseTopic, topics } from '../domain/topics.ts';
import { RegistryRepository } from '../storage/records/registry.repository.ts';
import { ensureServiceAccounts } from '../storage/records/service-accounts.ts';
import { demoCity } from '../simulators/city.generator.ts';
import { startFleet, type Fleet } from '../simulators/fleet.ts';
import { waitFor } from './harness/ports.ts';

const logger = pino({ level: 'silent' });

describe('fleet → real broker', () => {
  const g = demoCity();
  let dir: string;
  let registry: RegistryRepository;
  let broker: BrokerApp;
  let url: string;
  let listener: MqttClient;
  let secret: string;
  const got: { topic: string; payload: string; retain: boolean }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sim-fleet-'));
    registry = RegistryRepository.open(dir);
    registry.loadCity(g.city, g.secrets);
    secret = ensureServiceAccounts(registry, dir)['svc-ingest'];
    broker = await createBrokerApp({ registry, logger });
    const { mqttPort } = await broker.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' });
    url = `mqtt://127.0.0.1:${mqttPort}`;
    listener = await mqtt.connectAsync(url, {
      clientId: 'svc-ingest-simtest',
      username: 'svc-ingest',
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await listener.subscribeAsync([...topics.allTelemetry, topics.allStatus], { qos: 1 });
    listener.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
  });

  afterAll(async () => {
    await listener?.endAsync(true);
    await broker?.close();
    registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects every device with its own credentials and publishes a first reading at once', async () => {
    const start = Date.parse('2026-12-10T08:00:00+08:00');
    const clock = new ManualClock(start);
    const fleet: Fleet = startFleet({
      city: g.city,
      secrets: g.secrets,
      mqttUrl: url,
      clock,
      live: false,
      stamp: 'model',
      startTs: start,
      logger,
    });
    try {
      await fleet.ready;
      const s = fleet.stats();
      expect(s.errors).toBe(0);
      expect(s.connected).toBe(s.connections);
      const gateways = g.city.devices.filter((d) => d.kind === 'gateway').length;
      const direct = g.city.devices.filter((d) => d.kind !== 'gateway' && !d.gatewayId).length;
      expect(s.connections).toBe(gateways + direct);
      const online = await waitFor(() => {
        const n = got.filter((m) => parseTopic(m.topic).type === 'status' && m.payload === 'online').length;
        return n >= s.connections ? n : undefined;
      });
      expect(online).toBe(s.connections);

      // One reporting interval of model time: every device reports once, gateway devices on the gateway topic.
      clock.set(start + 60 * MINUTE_MS);
      await fleet.advanceTo(start + 60 * MINUTE_MS);
      const telemetry = () => got.filter((m) => parseTopic(m.topic).type === 'telemetry');
      await waitFor(() => telemetry().length >= fleet.stats().messages || undefined);
      const seen = new Set(telemetry().map((m) => (parseTopic(m.topic) as { deviceId: string }).deviceId));
      expect(seen.size).toBe(fleet.stats().devices);
      const viaGateway = telemetry().filter((m) => m.topic.includes('/gateways/'));
      expect(viaGateway.length).toBeGreaterThan(0);
      for (const m of viaGateway) {
        const t = parseTopic(m.topic) as { deviceId: string; gatewayId: string };
        expect(g.city.devices.find((d) => d.id === t.deviceId)?.gatewayId).toBe(t.gatewayId);
      }
      const sample = JSON.parse(telemetry()[0]!.payload) as { ts: number; temp?: number };
      expect(sample.ts).toBeGreaterThanOrEqual(start);
    } finally {
      await fleet.stop();
    }
    // The forced close publishes each will: offline, retained.
    await waitFor(() => got.some((m) => m.payload === 'offline') || undefined);
  });

  it('buffers through a network outage and sends the backlog as one JSON array', async () => {
    const start = Date.parse('2026-12-11T08:00:00+08:00');
    const sensor = g.city.devices.find((d) => d.kind === 'room_sensor' && !d.gatewayId && d.intervalMin === 10)!;
    const fleet = startFleet({
      city: g.city,
      secrets: g.secrets,
      mqttUrl: url,
      clock: new ManualClock(start),
      live: false,
      stamp: 'model',
      startTs: start,
      logger,
      deviceFilter: (d) => d.id === sensor.id,
    });
    try {
      await fleet.ready;
      fleet.injectFault({ kind: 'sensor_offline', deviceId: sensor.id, at: start + 30 * MINUTE_MS, durationMin: 60, backlog: true });
      got.length = 0;
      await fleet.advanceTo(start + 150 * MINUTE_MS);
      const msgs = await waitFor(() => {
        const m = got.filter((x) => x.topic === topics.telemetry(sensor.id));
        return m.length >= fleet.stats().messages ? m : undefined;
      });
      const arrays = msgs.map((m) => JSON.parse(m.payload) as unknown).filter((p) => Array.isArray(p)) as { ts: number }[][];
      expect(arrays).toHaveLength(1);
      expect(arrays[0]!.length).toBe(6); // 60 min outage / 10 min interval
      const ts = arrays[0]!.map((r) => r.ts);
      expect([...ts].sort((a, b) => a - b)).toEqual(ts);
      expect(fleet.stats().published).toBe(15); // 150 min / 10 min, nothing lost
    } finally {
      await fleet.stop();
    }
  });

  it('live mode at ×60 publishes right after connecting, stamped with the wall clock', async () => {
    const fleet = startFleet({
      city: g.city,
      secrets: g.secrets,
      mqttUrl: url,
      speed: 60,
      logger,
      tickMs: 50,
      deviceFilter: (d) => d.kind === 'station_meter',
    });
    try {
      await fleet.ready;
      const before = Date.now();
      const m = await waitFor(() =>
        got.find((x) => x.topic === topics.telemetry('m-st-0001') && (JSON.parse(x.payload) as { ts: number }).ts >= before - 60_000),
      );
      const p = JSON.parse(m.payload) as { ts: number; pumpHz: number };
      expect(Math.abs(p.ts - Date.now())).toBeLessThan(60_000);
      expect(p.pumpHz).toBeGreaterThan(30);
    } finally {
      await fleet.stop();
    }
  });
});
