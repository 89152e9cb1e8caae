/**
 * Issue 17, the chaos suite's lost readings: a PUBACK must clear the message it acknowledges,
 * never an older one. MQTT 3.1.1 §2.3.1 [MQTT-2.3.1-2]: a server sending a QoS 1 PUBLISH must
 * give it a packet identifier not in use. aedes numbers a connection's new deliveries from a
 * random start (lib/client.js `_nextId`), but resends a persistent session's queued, still
 * unacknowledged messages with the ids they were sent with before — after a reconnect and
 * after a broker restart. When the new numbering reaches one of those ids, two unacknowledged
 * messages share it; the subscriber's PUBACK for the new one then cleared the older one (the
 * queue cleared the oldest holder of the id), which the subscriber had not stored yet. A
 * subscriber that then died lost it: the chaos suite's ingest SIGKILL lost 200–300 readings.
 *
 * Real broker (journal on disk), real device publishing over MQTT, a raw-socket subscriber
 * that acknowledges exactly what the test says. The one thing set by hand is where the new
 * connection's numbering starts (aedes draws it at random): at an id still in use, which is
 * what a random draw hits sooner or later under load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { connectDevice, seedRegistry, serviceSecret, silentLogger } from '../broker/testing.fixture.ts';
import { topics } from '../domain/topics.ts';
import { waitFor } from './harness/ports.ts';
import { rawSubscriber, type RawSubscriber } from './harness/raw-subscriber.ts';

const registry = seedRegistry();
const dirs: string[] = [];
afterAll(() => {
  registry.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string): Promise<{ app: BrokerApp; port: number }> {
  const app = await createBrokerApp({ registry, logger: silentLogger, persistenceDir: dir });
  const { mqttPort } = await app.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' });
  return { app, port: mqttPort };
}

const CLIENT = 'svc-ingest-ids';
const subscriber = (port: number) =>
  rawSubscriber({ port, clientId: CLIENT, username: 'svc-ingest', password: serviceSecret('svc-ingest') });

/** The next connection of CLIENT numbers its new deliveries from `id` (aedes draws this at random). */
function numberFrom(app: BrokerApp, id: number): void {
  const onClient = (c: { id: string; _nextId: number }) => {
    if (c.id !== CLIENT) return;
    c._nextId = id;
    app.aedes.off('client', onClient as never);
  };
  app.aedes.on('client', onClient as never);
}

const body = (s: RawSubscriber) => s.received.map((p) => String(p.payload));

async function publish(port: number, payloads: string[]): Promise<void> {
  const dev = await connectDevice(`mqtt://127.0.0.1:${port}`, 'dev-b');
  // The broker PUBACKs after the store (ackAfterStore): each is queued for the session when this resolves.
  for (const p of payloads) await dev.publishAsync(topics.telemetry('dev-b'), p, { qos: 1 });
  await dev.endAsync();
}

describe.each([
  ['the subscriber reconnects', false],
  ['the broker restarts from its journal', true],
])('broker: a PUBACK clears only the message it acknowledges (%s)', (_name, restart) => {
  it('no two unacknowledged messages share an id; acking the new one keeps the old one queued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'broker-ids-'));
    dirs.push(dir);
    let { app, port } = await start(dir);
    try {
      // 1. Three readings delivered to the persistent session and not acknowledged (the
      //    subscriber has them in memory, not stored), then the subscriber dies.
      const s1 = await subscriber(port);
      await s1.subscribe(topics.telemetry('dev-b'), 1);
      await publish(port, ['{"m":1}', '{"m":2}', '{"m":3}']);
      await s1.waitFor(3);
      const oldIds = s1.received.map((p) => p.messageId!);
      await s1.destroy();
      if (restart) {
        await app.close();
        ({ app, port } = await start(dir));
      }

      // 2. It comes back: the three are resent with their ids, and a new reading is delivered
      //    on the same connection, numbered from where aedes' counter happens to start.
      numberFrom(app, oldIds[0]!);
      const s2 = await subscriber(port);
      expect(s2.sessionPresent).toBe(true);
      await s2.waitFor(3);
      expect(body(s2)).toEqual(['{"m":1}', '{"m":2}', '{"m":3}']);
      await publish(port, ['{"n":1}']);
      await s2.waitFor(4);
      const ids = s2.received.map((p) => p.messageId!);
      // [MQTT-2.3.1-2]: every unacknowledged PUBLISH on the connection has its own id.
      expect(new Set(ids).size).toBe(ids.length);

      // 3. The subscriber stores and acknowledges the new reading only, then dies before it
      //    has stored the three older ones.
      const n1 = s2.received.find((p) => String(p.payload) === '{"n":1}')!;
      s2.puback(n1.messageId!);
      await waitFor(() => app.metrics().queueDepth === 3, { what: `queue depth 3 after one PUBACK (${app.metrics().queueDepth})` });
      await s2.destroy();

      // 4. Everything it did not acknowledge comes again.
      const s3 = await subscriber(port);
      await s3.waitFor(3);
      await new Promise((r) => setTimeout(r, 200)); // nothing else follows
      expect(body(s3)).toEqual(['{"m":1}', '{"m":2}', '{"m":3}']);
      await s3.destroy();
    } finally {
      await app.close();
    }
  }, 60_000);
});
