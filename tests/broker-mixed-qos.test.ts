/**
 * Issue 17, the chaos suite's incident that never reached the API: the ingest publishes an
 * incident (QoS 1) and live readings (QoS 0) on one connection; the API's persistent session
 * subscribes to both. When the two arrive at the broker in one socket read, aedes handles
 * them concurrently: the live message, numbered after the incident, reaches the emitter
 * first (QoS 0 is not stored), the incident after its journal write — and aedes' per
 * connection dedupe (lib/client.js `dedupe`: drop a counter not above the last one handed
 * over) dropped the incident for the API. The ingest had its PUBACK, another subscriber (the
 * chaos suite's incident watch) got it, the API applied nothing until its next connection
 * (broker/patches/dedupe.patch.ts).
 *
 * Real broker process (journal on disk, SIGKILLed and restarted), the API's own consumer
 * (api/mqtt.consumer.ts: clean: false, QoS 1 incidents applied before the PUBACK), an
 * ingest-like MQTT.js publisher. The one thing arranged by hand is that an incident and the
 * live message after it leave in one TCP write (corked), which is what a busy ingest does
 * sooner or later; every incident the publisher got a PUBACK for must be applied by the API.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttConsumer } from '../api/mqtt.consumer.ts';
import { serviceSecret, silentLogger } from '../broker/testing.fixture.ts';
import { topics } from '../domain/topics.ts';
import { brokerFixture } from './harness/broker.fixture.ts';
import { waitFor } from './harness/ports.ts';

const broker = brokerFixture('broker-mixed-qos-');
let api: MqttConsumer;
/** Incident ids the API's consumer applied (a redelivery may apply one twice: a set). */
const applied = new Set<string>();
let live = 0;
/** Incident ids the publisher got a PUBACK for. */
const acked = new Set<string>();

const ingest = (): Promise<MqttClient> =>
  mqtt.connectAsync(broker.url, {
    clientId: 'svc-ingest',
    username: 'svc-ingest',
    password: serviceSecret('svc-ingest'),
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 200,
  });

/** An incident and a live message after it, in one TCP write (as a busy ingest sends them). */
function pair(pub: MqttClient, id: string): Promise<void> {
  pub.stream.cork();
  const done = new Promise<void>((resolve) =>
    pub.publish(topics.incidents, JSON.stringify({ type: 'opened', incident: { id } }), { qos: 1 }, (err) => {
      if (!err) acked.add(id);
      resolve();
    }),
  );
  pub.publish(topics.live, JSON.stringify([{ deviceId: 'dev-a', ts: Date.now(), temp: 21 }]), { qos: 0 });
  process.nextTick(() => pub.stream.uncork());
  return done;
}

const missing = () => [...acked].filter((id) => !applied.has(id));

async function expectAllApplied(what: string): Promise<void> {
  await waitFor(() => missing().length === 0, { timeoutMs: 20_000, what }).catch((e: Error) => {
    throw new Error(
      `${e.message}: ${missing().length} of ${acked.size} acknowledged incidents never applied by the API (${missing().slice(0, 5).join(', ')}…); broker log: ${broker.process.log().slice(-2000)}`,
    );
  });
}

beforeAll(async () => {
  api = new MqttConsumer(
    { url: broker.url, clientId: 'svc-api', username: 'svc-api', password: serviceSecret('svc-api') },
    {
      incident: (p) => void applied.add((p as { incident: { id: string } }).incident.id),
      live: () => void live++,
      status: () => undefined,
    },
    silentLogger,
  );
  // Subscribed once a probe incident (alone) comes through (the consumer subscribes on its CONNACK).
  const probe = await ingest();
  await waitFor(
    async () => {
      await probe.publishAsync(topics.incidents, JSON.stringify({ type: 'opened', incident: { id: 'probe' } }), { qos: 1 });
      return applied.has('probe');
    },
    { timeoutMs: 20_000, intervalMs: 200, what: 'the API subscribed' },
  );
  await probe.endAsync();
}, 300_000);

afterAll(async () => {
  await api?.close();
});

describe('broker: a QoS 1 message and a QoS 0 one after it, in one read, both reach a persistent subscriber', () => {
  it('every acknowledged incident is applied by the API (no restart)', async () => {
    const pub = await ingest();
    for (let i = 0; i < 20; i++) await pair(pub, `steady-${i}`);
    await pub.endAsync();
    expect(acked.size).toBe(20);
    await expectAllApplied('steady incidents applied');
    expect(live).toBeGreaterThan(0);
  }, 60_000);

  it('also across a broker SIGKILL with incidents in flight and a restarted publisher', async () => {
    const before = acked.size;
    const pub = await ingest();
    pub.on('error', () => undefined); // reconnects on its own while the broker is away
    let n = 0;
    let stop = false;
    // Pairs keep going out while the broker dies and comes back; unacknowledged ones are
    // resent by MQTT.js on the reconnect, or never acknowledged (and not counted).
    const loop = (async () => {
      while (!stop) {
        void pair(pub, `inflight-${n++}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitFor(() => acked.size >= before + 20, { what: 'pairs acknowledged before the kill' });
    await broker.process.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await broker.process.start();
    await waitFor(() => acked.size >= before + 40, { timeoutMs: 30_000, what: 'pairs acknowledged after the restart' });
    stop = true;
    await loop;
    await pub.endAsync(true); // the ingest dies: what it had not got a PUBACK for is not counted
    await expectAllApplied('in-flight incidents applied');

    // The restarted ingest: a new connection of the same persistent session.
    const again = await ingest();
    for (let i = 0; i < 20; i++) await pair(again, `after-${i}`);
    await again.endAsync();
    await expectAllApplied('incidents after the restarts applied');
    expect(api.connected).toBe(true);
    expect(acked.size).toBeGreaterThanOrEqual(before + 60);
  }, 120_000);
});
