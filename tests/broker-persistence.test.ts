/**
 * On-disk persistence: the broker process is SIGKILLed and restarted while the ingest is
 * offline with QoS 1 messages queued for its persistent session; every message arrives
 * after the restart. The broker runs as a real child process (`node --import tsx
 * broker/server.ts`, one process, so SIGKILL hits the broker itself, not a wrapper).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../domain/topics.ts';
import { SERVICE_SECRET, serviceSecret, connectDevice, seedRegistry, parkIngestSession } from '../broker/testing.fixture.ts';
import { freePort, waitFor } from './harness/ports.ts';
import { brokerProcess, type ServiceProcess } from './harness/services.ts';

describe('broker: on-disk persistence survives SIGKILL', () => {
  let dataDir: string;
  let port: number;
  let broker: ServiceProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'broker-persist-'));
    seedRegistry(dataDir).close();
    port = await freePort();
    broker = brokerProcess(dataDir, port, SERVICE_SECRET);
    await broker.start();
  }, 120_000);

  afterAll(async () => {
    await broker.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every queued QoS 1 message to the ingest after kill -9 and restart', async () => {
    const url = `mqtt://127.0.0.1:${port}`;
    // The ingest's persistent session: subscribe, then go offline.
    await parkIngestSession(url);

    const N = 40;
    const dev = await connectDevice(url, 'dev-a');
    for (let n = 0; n < N; n++) await dev.publishAsync(topics.telemetry('dev-a'), JSON.stringify({ ts: n, temp: 20 }), { qos: 1 });
    // With ackAfterStore every PUBACK above already follows its store; this later PUBACK
    // is a barrier that also holds without it (aedes handles one client's packets in order),
    // tests/broker-durable.test.ts checks the PUBACK-after-store guarantee itself.
    await dev.publishAsync(topics.status('dev-a'), 'online', { qos: 1 });
    dev.stream.destroy();

    await broker.kill('SIGKILL');
    expect(broker.exit().signal).toBe('SIGKILL');
    await broker.start();

    const got = new Set<number>();
    // Listen before connecting: queued messages follow the CONNACK immediately.
    const back = mqtt.connect(url, {
      clientId: 'svc-ingest',
      username: 'svc-ingest',
      password: serviceSecret('svc-ingest'),
      clean: false,
      reconnectPeriod: 0,
    });
    back.on('message', (_t, p) => got.add((JSON.parse(p.toString()) as { ts: number }).ts));
    await waitFor(() => got.size === N, { what: `${N} queued readings`, timeoutMs: 45_000 }).catch((e: Error) => {
      throw new Error(`${e.message}: got ${got.size}; broker log: ${broker.log().slice(-3000)}`);
    });
    expect([...got].sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
    await back.endAsync();

    // A clean SIGTERM stop works too (and exits 0).
    await broker.kill('SIGTERM');
    expect(broker.exit().code).toBe(0);
  }, 150_000);
});
