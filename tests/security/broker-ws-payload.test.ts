/**
 * Issue 13, finding 4: unauthenticated memory exhaustion over MQTT-over-WebSocket. ws'
 * default `maxPayload` is 100 MiB, so before the fix a 100 MB frame was buffered whole
 * before the 256 KB MQTT limit could apply (8 frames of 95 MB: 313 MB → 1.2 GB). Now the
 * WebSocket server refuses a frame past one MQTT packet at its header (close 1009) and drops
 * the connection at once: ws' own close handshake went on reading (and discarding) the rest of
 * the frame, 57 MB of peak for four frames, which a loaded CI run once pushed past the bound.
 * The broker runs as its own process (`broker/server.ts`), so its peak RSS (VmHWM) is its own.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SERVICE_SECRET, deviceSecret, seedRegistry, serviceSecret } from '../../broker/testing.fixture.ts';
import { topics } from '../../domain/topics.ts';
import { freePort } from '../harness/ports.ts';
import { portOpen, serviceProcess, type ServiceProcess } from '../harness/services.ts';

const MB = 1_000_000;

/** Resident and peak resident set of a process, in bytes (/proc/<pid>/status). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Send one binary frame of `bytes` on a fresh MQTT WebSocket; resolves with the close code. */
function sendFrame(url: string, payload: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'mqtt');
    ws.once('error', () => {}); // the broker may reset the socket while the frame is still going out
    ws.once('open', () => ws.send(payload, { binary: true }, () => {}));
    ws.once('close', (code) => resolve(code));
    setTimeout(() => reject(new Error('no close within 60 s')), 60_000).unref();
  });
}

describe('broker: MQTT over WebSocket frames are bounded by the MQTT packet limit (finding 4)', () => {
  let dir: string;
  let broker: ServiceProcess;
  let wsUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'broker-ws-'));
    seedRegistry(dir).close();
    const [mqttPort, wsPort] = [await freePort(), await freePort()];
    wsUrl = `ws://127.0.0.1:${wsPort}`;
    broker = serviceProcess(
      'broker',
      {
        DATA_DIR: dir,
        MQTT_PORT: String(mqttPort),
        MQTT_WS_PORT: String(wsPort),
        HOST: '127.0.0.1',
        SERVICE_SECRET,
        REDIS_URL: '',
        TLS_CERT_FILE: '',
        TLS_KEY_FILE: '',
        INGEST_FEED: 'mqtt',
      },
      () => portOpen(wsPort),
    );
    await broker.start();
  });

  afterAll(async () => {
    await broker?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses 100 MB frames at their header: the peak RSS stays within 20 MB of its start, and MQTT over ws still works', async () => {
    // Warm the WebSocket path up first, so the baseline includes it.
    const warm = await mqtt.connectAsync(wsUrl, {
      clientId: 'dev-a',
      username: 'dev-a',
      password: deviceSecret('dev-a'),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await warm.publishAsync(topics.telemetry('dev-a'), JSON.stringify({ ts: Date.now(), temp: 20 }), { qos: 1 });
    await warm.endAsync();
    const pid = broker.pid()!;
    // Reset the peak (VmHWM) to the current RSS, so start-up does not count (proc(5) clear_refs).
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const start = memory(pid);

    // Zeros: not even a valid MQTT packet type, so nothing but ws' limit stands in the way.
    const frame = Buffer.alloc(100 * MB);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push(await sendFrame(wsUrl, frame));
    const after = memory(pid);

    expect(
      codes.every((c) => c === 1009 || c === 1006),
      `close codes ${codes.join(',')}`,
    ).toBe(true);
    expect(after.peak - start.rss, `peak ${(after.peak / MB).toFixed(0)} MB vs ${(start.rss / MB).toFixed(0)} MB at start`).toBeLessThan(
      20 * MB,
    );
    expect(broker.running()).toBe(true);

    const svc = await mqtt.connectAsync(wsUrl, {
      clientId: 'svc-ingest-ws',
      username: 'svc-ingest',
      password: serviceSecret('svc-ingest'),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await svc.subscribeAsync(topics.telemetry('dev-b'), { qos: 1 });
    const got = new Promise<string>((resolve) => svc.once('message', (_t, p) => resolve(p.toString())));
    const dev = await mqtt.connectAsync(wsUrl, {
      clientId: 'dev-b',
      username: 'dev-b',
      password: deviceSecret('dev-b'),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await dev.publishAsync(topics.telemetry('dev-b'), '{"ts":1,"temp":21}', { qos: 1 });
    expect(await got).toContain('"temp":21');
    await Promise.all([svc.endAsync(), dev.endAsync()]);
  }, 120_000);
});
