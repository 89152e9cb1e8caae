/**
 * Broker limits and transports with real clients: oversized packets and publish floods cut
 * off only the offender, a subscriber that stops reading is dropped after the drain timeout,
 * the connection cap answers CONNACK 3, and WebSocket / TLS / WSS listeners carry MQTT.
 */
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { generate } from 'mqtt-packet';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../domain/clock.ts';
import { topics } from '../domain/topics.ts';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import {
  serviceSecret,
  closed,
  connackCode,
  connectDevice,
  connectService,
  seedRegistry,
  silentLogger,
} from '../broker/testing.fixture.ts';
import { brokerAppFixture } from './harness/broker.fixture.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { waitFor } from './harness/ports.ts';

describe('broker: limits', () => {
  // The bucket refills from this clock, which never moves: allowances are exact counts.
  const clock = new ManualClock(Date.parse('2026-01-10T08:00:00Z'));
  const broker = brokerAppFixture({
    devices: ['dev-f0', 'dev-f1', 'dev-f2'],
    clock,
    rateClock: clock,
    options: {
      maxPacketBytes: 4096,
      publishBurst: 100,
      publishRatePerSec: 2000, // a throttled publish waits debt/rate: ≤ 50 ms here
      publishFloodCutoff: 100,
      drainTimeoutMs: 300,
      maxConnections: 12,
      registryPollMs: 200,
    },
  });

  it('cuts off a client sending an oversized packet; others keep flowing', async () => {
    const ingest = broker.track(await connectService(broker.url, 'svc-ingest', { clientId: 'svc-ingest-big' }));
    const got: string[] = [];
    ingest.on('message', (_t, p) => got.push(p.toString()));
    await ingest.subscribeAsync(topics.allTelemetry[0], { qos: 1 });

    const big = broker.track(await connectDevice(broker.url, 'dev-a'));
    const gone = closed(big);
    big.publish(topics.telemetry('dev-a'), Buffer.alloc(8192, 0x20), { qos: 1 });
    await gone;
    expect(broker.app.metrics().refusals.packet_too_large).toBe(1);

    const b = broker.track(await connectDevice(broker.url, 'dev-b'));
    await b.publishAsync(topics.telemetry('dev-b'), '{"ts":1,"temp":20}', { qos: 1 });
    await waitFor(() => got.includes('{"ts":1,"temp":20}'), { what: 'normal reading after oversized one' });
    expect(got.some((p) => p.length > 4096)).toBe(false);
    await ingest.endAsync();
  });

  it('cuts off a publish flood from one client while another keeps flowing', async () => {
    const ingest = broker.track(await connectService(broker.url, 'svc-ingest', { clientId: 'svc-ingest-flood' }));
    const fromGood: number[] = [];
    let fromFlood = 0;
    ingest.on('message', (t, p) => {
      if (t === topics.telemetry('dev-f1')) fromGood.push((JSON.parse(p.toString()) as { n: number }).n);
      else fromFlood++;
    });
    await ingest.subscribeAsync(topics.allTelemetry[0], { qos: 0 });

    const flooder = broker.track(await connectDevice(broker.url, 'dev-f0'));
    const good = broker.track(await connectDevice(broker.url, 'dev-f1'));
    const gone = closed(flooder);
    for (let n = 0; n < 2000; n++) flooder.publish(topics.telemetry('dev-f0'), `{"n":${n}}`, { qos: 0 });
    for (let n = 0; n < 50; n++) await good.publishAsync(topics.telemetry('dev-f1'), `{"n":${n}}`, { qos: 1 });
    await gone;
    expect(broker.app.metrics().refusals.rate_limited).toBe(1);
    await waitFor(() => fromGood.length === 50, { what: 'all 50 good readings' });
    expect(fromGood).toEqual([...Array(50).keys()]);
    // The flooder got its burst plus at most the throttled allowance, never the flood.
    expect(fromFlood).toBeLessThanOrEqual(100 + 100);
    await ingest.endAsync();
  });

  it('drops a subscriber that stops reading (drain timeout); the others keep receiving', async () => {
    // A raw socket that subscribes and then never reads: the broker's writes to it back up.
    const stuck = connect(broker.port, '127.0.0.1');
    await once(stuck, 'connect');
    stuck.write(
      Buffer.concat([
        generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          keepalive: 0,
          clientId: 'svc-api-stuck',
          username: 'svc-api',
          password: Buffer.from(serviceSecret('svc-api')),
        }),
        generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: topics.allStatus, qos: 0 }] }),
      ]),
    );
    // A paused socket never sees the FIN behind its unread data: watch the broker side.
    const stuckGone = new Promise<void>((resolve) => broker.app.aedes.on('clientDisconnect', (c) => c.id === 'svc-api-stuck' && resolve()));
    stuck.pause();
    await waitFor(() => broker.app.aedes.connectedClients >= 1, { what: 'stuck subscriber connected' });

    const fine = broker.track(await connectService(broker.url, 'svc-api', { clientId: 'svc-api-fine' }));
    let n = 0;
    fine.on('message', () => n++);
    await fine.subscribeAsync(topics.allStatus, { qos: 0 });
    const sim = broker.track(await connectService(broker.url, 'svc-sim', { clientId: 'svc-sim-drain' }));
    const payload = Buffer.alloc(3000, 0x61);
    // ~9 MB in total, far beyond the kernel's socket buffers.
    const total = 3000;
    for (let i = 0; i < total; i++) {
      sim.publish(topics.status(`dev-s${i % 50}`), payload, { qos: 0 });
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    await stuckGone;
    stuck.destroy();
    await waitFor(() => broker.app.metrics().refusals.drain_timeout === 1, { what: 'drain timeout counted' });
    await waitFor(() => n === total, { what: 'fine subscriber got everything', timeoutMs: 30_000 });
    expect(n).toBe(total);
    await fine.endAsync();
    await sim.endAsync();
  });

  it('kicks a device disabled straight in the database, on the registry sweep', async () => {
    const before = broker.app.metrics().refusals.kicked;
    const c = broker.track(await connectDevice(broker.url, 'dev-f2'));
    const gone = closed(c);
    broker.registry.setDeviceEnabled('dev-f2', false); // no notice published: only the sweep can see it
    await gone;
    expect(broker.app.metrics().refusals.kicked).toBe(before + 1);
  });

  it('answers CONNACK 3 when the connection cap is reached', async () => {
    await broker.endTracked();
    await waitFor(() => broker.app.aedes.connectedClients === 0, { what: 'all disconnected' });
    for (let i = 0; i < 12; i++) broker.track(await connectService(broker.url, 'svc-api', { clientId: `svc-api-cap${i}` }));
    expect(await connackCode(broker.url, { clientId: 'dev-b', username: 'dev-b', password: 'correct-horse-battery-dev-b' })).toBe(3);
    expect(broker.app.metrics().refusals.max_connections).toBe(1);
  });
});

describe('broker: WebSocket, TLS and WSS listeners', () => {
  let app: BrokerApp;
  let registry: RegistryRepository;
  let dir: string;
  let ports: Awaited<ReturnType<BrokerApp['listen']>>;
  let cert: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'broker-tls-'));
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
        ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'));
    registry = seedRegistry();
    app = await createBrokerApp({ registry, logger: silentLogger });
    ports = await app.listen({
      mqttPort: 0,
      wsPort: 0,
      host: '127.0.0.1',
      tls: { port: 0, wssPort: 0, cert, key: readFileSync(join(dir, 'key.pem')) },
    });
  });

  afterAll(async () => {
    await app.close();
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('carries telemetry over ws://, mqtts:// and wss:// to a TCP subscriber', async () => {
    const ingest = await connectService(`mqtt://127.0.0.1:${ports.mqttPort}`, 'svc-ingest');
    const got: string[] = [];
    ingest.on('message', (_t, p) => got.push(p.toString()));
    await ingest.subscribeAsync(topics.allTelemetry[0], { qos: 1 });
    const tlsOpts = { ca: cert, servername: 'localhost' };
    const urls = [`ws://127.0.0.1:${ports.wsPort}`, `mqtts://127.0.0.1:${ports.tlsPort}`, `wss://127.0.0.1:${ports.wssPort}`];
    for (const [i, u] of urls.entries()) {
      const c = await connectDevice(u, 'dev-a', u.startsWith('ws:') ? {} : tlsOpts);
      await c.publishAsync(topics.telemetry('dev-a'), `{"via":${i}}`, { qos: 1 });
      await c.endAsync();
    }
    await waitFor(() => got.length === 3, { what: 'three readings' });
    expect(got.sort()).toEqual(['{"via":0}', '{"via":1}', '{"via":2}']);
    // A wrong secret over TLS is refused like over TCP.
    expect(
      await connackCode(`mqtts://127.0.0.1:${ports.tlsPort}`, { ...tlsOpts, clientId: 'dev-a', username: 'dev-a', password: 'x' }),
    ).toBe(5);
    await ingest.endAsync();
  });

  it('works with mosquitto_pub over TLS', async () => {
    const ingest = await connectService(`mqtt://127.0.0.1:${ports.mqttPort}`, 'svc-ingest', { clientId: 'svc-ingest-m' });
    const got: string[] = [];
    ingest.on('message', (_t, p) => got.push(p.toString()));
    await ingest.subscribeAsync(topics.allTelemetry[0], { qos: 1 });
    // Async: a synchronous child would block this process, which runs the broker.
    await promisify(execFile)(
      'mosquitto_pub',
      [
        ...['-h', 'localhost', '-p', String(ports.tlsPort), '--cafile', join(dir, 'cert.pem'), '-V', 'mqttv311', '-q', '1'],
        ...['-i', 'dev-b', '-u', 'dev-b', '-P', 'correct-horse-battery-dev-b', '-t', topics.telemetry('dev-b'), '-m', '{"tls":true}'],
      ],
      { timeout: 15_000 },
    );
    await waitFor(() => got.includes('{"tls":true}'), { what: 'mosquitto_pub over TLS' });
    await ingest.endAsync();
  });
});
