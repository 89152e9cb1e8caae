/**
 * Issue 17: a failing write path shows in the API's /health and /metrics, and clears by
 * itself. The platform runs as `npm start` does (broker, ingest and API in one process, MQTT
 * feed so telemetry goes through the broker's journal and then the ingest's own spool), with
 * the disk-fault wrapper (tests/harness/disk-faults.preload.mjs) loaded into this process and
 * limited to its DATA_DIR. A device publishes over MQTT while first the journal, then the
 * ingest's spool fails with ENOSPC / EIO; /health is read over HTTP as a monitor would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../domain/topics.ts';
import { waitFor } from './harness/ports.ts';
import { startTestPlatform, type TestPlatform } from './harness/platform.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'heatwatch-health-'));
const controlDir = mkdtempSync(join(tmpdir(), 'heatwatch-health-ctl-'));
const control = join(controlDir, 'fault');
writeFileSync(control, '');
process.env.DISK_FAULT_FILE = control;
process.env.DISK_FAULT_MATCH = dataDir;
await import(new URL('./harness/disk-faults.preload.mjs', import.meta.url).href);

const DEVICE = 'dev-health-1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECRET = 'health-device-secret-0123';

interface Health {
  status: 'ok' | 'degraded';
  store: boolean;
  writes: { path: string; failing: string | null; errors: number }[];
}

describe('API /health: the broker journal and the ingest spool failing and recovering', () => {
  let p: TestPlatform;
  const health = async (): Promise<Health> => (await (await fetch(`${p.httpUrl}/api/v1/health`)).json()) as Health;
  const path = (h: Health, name: string) => h.writes.find((w) => w.path === name);
  const metrics = async () => (await fetch(`${p.httpUrl}/metrics`)).text();
  let n = 0;
  let acked = 0;
  /**
   * One QoS 1 reading; true on its PUBACK, false when none came within 4 s (a failing journal
   * holds its callers until it recovers) or the broker closed the connection instead.
   */
  const publish = async (): Promise<boolean> => {
    const timeout = () => new Promise<false>((r) => setTimeout(() => r(false), 4_000));
    // A CONNECT is answered after the session's store writes, which a failing journal holds.
    const c = await Promise.race([
      mqtt
        .connectAsync(p.mqttUrl, {
          clientId: DEVICE,
          username: DEVICE,
          password: SECRET,
          reconnectPeriod: 0,
          connectTimeout: 4_000,
          protocolVersion: 4,
        })
        .catch(() => false as const),
      timeout(),
    ]);
    if (!c) return false;
    const ts = Date.now() - 60_000 + 1_000 * n++;
    const ok = await Promise.race([
      c.publishAsync(topics.telemetry(DEVICE), JSON.stringify({ ts, temp: 20.5 }), { qos: 1 }).then(
        () => true,
        () => false,
      ),
      new Promise<false>((r) => c.once('close', () => r(false))),
      timeout(),
    ]);
    c.end(true);
    if (ok) acked++;
    return ok;
  };

  beforeAll(async () => {
    p = await startTestPlatform({ demo: false, fleetSpeed: false, env: { DATA_DIR: dataDir, INGEST_FEED: 'mqtt' } });
    p.registry.upsertDevice({ id: DEVICE, kind: 'room_sensor', intervalMin: 5, enabled: true }, SECRET);
  });
  afterAll(async () => {
    writeFileSync(control, '');
    await p?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(controlDir, { recursive: true, force: true });
  });

  it('shows each failing path as degraded with its error, and ok again once the disk recovers', async () => {
    expect(await publish()).toBe(true);
    const h0 = await health();
    expect(h0.status).toBe('ok');
    expect(h0.writes.map((w) => w.path).sort()).toEqual(['broker.journal', 'ingest.deadLetters', 'ingest.spool', 'ingest.store']);
    expect(h0.writes.every((w) => w.failing === null && w.errors === 0)).toBe(true);

    // 1. The broker's journal: the publish is refused (no PUBACK) and /health names the error.
    writeFileSync(control, 'ENOSPC /broker/');
    await sleep(100); // the wrapper re-reads its control file every 20 ms
    expect(await publish()).toBe(false);
    await waitFor(async () => path(await health(), 'broker.journal')?.failing?.includes('ENOSPC'), { what: 'journal failing in /health' });
    const h1 = await health();
    expect(h1.status).toBe('degraded');
    expect(path(h1, 'broker.journal')!.errors).toBeGreaterThan(0);
    expect(path(h1, 'ingest.spool')!.failing).toBeNull();
    expect(await metrics()).toContain('heat_write_path_failing{path="broker.journal"} 1');
    writeFileSync(control, '');
    // The journal recovers by itself (a compaction of its live state, retried on a timer).
    await waitFor(async () => (await health()).status === 'ok', { timeoutMs: 20_000, what: 'journal recovered in /health' });
    expect(await publish()).toBe(true);
    expect(await metrics()).toContain('heat_write_path_failing{path="broker.journal"} 0');

    // 2. The ingest's spool: the broker keeps the reading (journal fine), the ingest cannot spool it.
    writeFileSync(control, 'EIO /spool');
    await sleep(100);
    expect(await publish()).toBe(true);
    await waitFor(async () => path(await health(), 'ingest.spool')?.failing?.includes('EIO'), { what: 'ingest spool failing in /health' });
    const h2 = await health();
    expect(h2.status).toBe('degraded');
    expect(path(h2, 'broker.journal')!.failing).toBeNull();
    expect(await metrics()).toMatch(/heat_write_path_errors_total\{path="ingest\.spool"\} [1-9]/);
    writeFileSync(control, '');
    // No restart: the ingest's session gets the reading again and spools it.
    await waitFor(async () => (await health()).status === 'ok', { timeoutMs: 30_000, what: 'ingest spool recovered in /health' });
    // Nothing acknowledged was lost: every reading with a PUBACK is stored (the one refused
    // during the journal fault may be too: its record was in the journal's live state).
    expect(acked).toBe(3);
    await waitFor(async () => (await p.store.count({ deviceId: DEVICE })) >= acked, {
      timeoutMs: 30_000,
      what: 'acknowledged readings stored',
    });
  }, 120_000);
});
