/**
 * Durable first (options.ackAfterStore): a QoS 1 PUBACK means the message is stored for the
 * offline persistent subscriber. Publishers keep many QoS 1 messages in flight; the broker
 * process is SIGKILLed the moment a given number of PUBACKs has arrived, mid-stream, and
 * restarted: every acknowledged message reaches the ingest's persistent session.
 * (aedes alone acknowledges before it stores: tests/broker-persistence.test.ts needs a later
 * PUBACK as a barrier; this test has none.)
 */
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { topics } from '../domain/topics.ts';
import { connectService, parkIngestSession, resumeIngestSession } from '../broker/testing.fixture.ts';
import { brokerFixture } from './harness/broker.fixture.ts';
import { waitFor } from './harness/ports.ts';

describe('broker: a PUBACK follows the store (SIGKILL mid-stream)', () => {
  const broker = brokerFixture('broker-durable-');

  it('every message whose PUBACK arrived survives kill -9 and restart', async () => {
    const { url } = broker;
    await parkIngestSession(url);

    // Replay accounts (no per-client rate limit), 4 × up to 2,000 messages, 100 in flight each.
    const P = 4;
    const PER = 2_000;
    const WINDOW = 100;
    const KILL_AT = 1_500;
    const acked = new Set<string>();
    let killed: Promise<void> | undefined;
    let onKilled: () => void = () => {};
    // MQTT.js keeps unacknowledged publishes for a reconnect, so their promises never settle
    // once the broker is gone: the publishers race against the kill.
    const stopped = new Promise<void>((r) => (onKilled = r));
    const pubs: MqttClient[] = [];
    for (let p = 0; p < P; p++) pubs.push(await connectService(url, 'svc-sim', { clientId: `svc-sim-${p}` }));
    await Promise.race([
      stopped,
      Promise.all(
        pubs.map(async (c, p) => {
          const topic = topics.telemetry(`dev-${p}`);
          for (let n = 0; n < PER && !killed; n += WINDOW) {
            await Promise.all(
              Array.from({ length: WINDOW }, async (_, j) => {
                const key = `${p}:${n + j}`;
                try {
                  await c.publishAsync(topic, JSON.stringify({ ts: n + j, p }), { qos: 1 });
                } catch {
                  return; // not acknowledged
                }
                acked.add(key);
                if (acked.size >= KILL_AT) killed ??= broker.process.kill('SIGKILL').then(onKilled);
              }),
            );
          }
        }),
      ),
    ]);
    await killed;
    for (const c of pubs) c.end(true);
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AT);

    await broker.process.start();
    const got = new Set<string>();
    const back = resumeIngestSession(url, (_t, payload) => {
      const m = JSON.parse(payload.toString()) as { ts: number; p: number };
      got.add(`${m.p}:${m.ts}`);
    });
    const missing = () => [...acked].filter((k) => !got.has(k));
    await waitFor(() => missing().length === 0, { what: 'every acknowledged message', timeoutMs: 60_000 }).catch((e: Error) => {
      throw new Error(
        `${e.message}: ${missing().length} of ${acked.size} acknowledged messages lost, e.g. ${missing().slice(0, 5).join(', ')}`,
      );
    });
    expect(missing()).toEqual([]);
    await back.endAsync();
  }, 180_000);
});
