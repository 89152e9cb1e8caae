/**
 * Queue depth (metrics `queueDepth` / `heat_broker_queue_depth`): exact from the on-disk
 * journal, including what was queued before a restart; estimated per process for the
 * in-memory store, where a session that comes back clean gives up its queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topics } from '../domain/topics.ts';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { connectDevice, connectService, seedRegistry, silentLogger } from '../broker/testing.fixture.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { waitFor } from './harness/ports.ts';

async function start(registry: RegistryRepository, persistenceDir?: string): Promise<{ app: BrokerApp; url: string }> {
  const app = await createBrokerApp({ registry, logger: silentLogger, persistenceDir });
  const { mqttPort } = await app.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' });
  return { app, url: `mqtt://127.0.0.1:${mqttPort}` };
}

/** An offline persistent session on dev-b's telemetry, then `n` QoS 1 readings from dev-b. */
async function queueFor(url: string, clientId: string, n: number): Promise<void> {
  const q = await connectService(url, 'svc-ingest', { clientId, clean: false });
  await q.subscribeAsync(topics.telemetry('dev-b'), { qos: 1 });
  await q.endAsync();
  const b = await connectDevice(url, 'dev-b');
  // Durable first: each PUBACK follows the store, so the queue is complete when they are back.
  for (let i = 0; i < n; i++) await b.publishAsync(topics.telemetry('dev-b'), `{"q":${i}}`, { qos: 1 });
  await b.endAsync();
}

describe('broker: queue depth', () => {
  const dirs: string[] = [];
  const registry = seedRegistry();
  afterAll(() => {
    registry.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('journal: exact, and still counted after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'broker-queue-'));
    dirs.push(dir);
    let { app, url } = await start(registry, dir);
    try {
      await queueFor(url, 'svc-ingest-q', 3);
      expect(app.metrics()).toMatchObject({ queueDepth: 3, queueDepthSource: 'store' });
      expect(app.prometheus()).toMatch(/^heat_broker_queue_depth\{broker="[^"]+",source="store"\} 3$/m);
    } finally {
      await app.close();
    }
    ({ app, url } = await start(registry, dir));
    try {
      expect(app.metrics()).toMatchObject({ queueDepth: 3, queueDepthSource: 'store' });
      const back = await connectService(url, 'svc-ingest', { clientId: 'svc-ingest-q', clean: false });
      let got = 0;
      back.on('message', () => got++);
      await waitFor(() => got === 3 && app.metrics().queueDepth === 0, { what: `queue drained (depth ${app.metrics().queueDepth})` });
      await back.endAsync();
    } finally {
      await app.close();
    }
  });

  it('in memory: estimated for this process; a session that reconnects clean gives its queue up', async () => {
    const { app, url } = await start(registry);
    try {
      await queueFor(url, 'svc-ingest-q2', 2);
      expect(app.metrics()).toMatchObject({ queueDepth: 2, queueDepthSource: 'process' });
      // aedes clears a session's stored queue when the client comes back with clean = true.
      const clean = await connectService(url, 'svc-ingest', { clientId: 'svc-ingest-q2', clean: true });
      expect(app.metrics().queueDepth).toBe(0);
      await clean.endAsync();
    } finally {
      await app.close();
    }
  });
});
