/**
 * Issue 13, finding 6 (broker side): failed CONNECTs must not lock anyone out. Before the
 * fix 5 failures on a client id blocked the real device for 10 minutes (checked before its
 * credentials), `svc-ingest`/`svc-api` included, and 100 failures from one address blocked
 * every device behind it. Now failures slow down only their own refusals, per (client id,
 * address), with a doubling delay; correct credentials always get in at once.
 * Real broker on a free port; attackers are raw MQTT connections and mosquitto_pub bound to
 * other loopback addresses (127.0.0.x), the real clients MQTT.js and mosquitto_pub.
 */
import { describe, expect, it } from 'vitest';
import { connectDevice, connectService, deviceSecret, serviceSecret } from '../../broker/testing.fixture.ts';
import { brokerAppFixture } from '../harness/broker.fixture.ts';
import { connectPacket, mosquittoPub, rawMqtt } from './broker-clients.ts';

// Short delays so the suite is quick; the shape (doubling, capped) is what is tested.
const BASE_MS = 40;
const MAX_MS = 1_000;

describe('broker: failed CONNECTs lock nobody out (finding 6)', () => {
  const broker = brokerAppFixture({
    devices: ['dev-n0', 'dev-n1', 'dev-n2'],
    options: { authFailureDelayMs: BASE_MS, authFailureDelayMaxMs: MAX_MS },
  });

  /** One wrong CONNECT from `from`; resolves with the CONNACK code and how long it took. */
  const wrong = async (clientId: string, from: string, username = clientId) => {
    const c = await rawMqtt(broker.port, from);
    const t0 = performance.now();
    c.send(connectPacket({ clientId, username, password: Buffer.from('a-wrong-guess') }));
    const code = await c.connack();
    const ms = performance.now() - t0;
    c.socket.destroy();
    return { code, ms };
  };

  it('slows repeated failures of one (client id, address) down with a doubling delay', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await wrong('dev-b', '127.0.0.4');
      expect(r.code).toBe(5);
      times.push(r.ms);
    }
    // 40, 80, 160, 320, 640 ms (timers fire late, never early).
    times.forEach((ms, i) => expect(ms).toBeGreaterThanOrEqual(BASE_MS * 2 ** i * 0.9));
  });

  it("lets the real device in at once after an attacker's failures on its client id, from elsewhere and from its own address", async () => {
    // 10 wrong guesses each from another host and from the device's own address (in parallel).
    const attempts = await Promise.all([
      ...Array.from({ length: 10 }, () => wrong('dev-a', '127.0.0.2')),
      ...Array.from({ length: 10 }, () => wrong('dev-a', '127.0.0.1')),
    ]);
    expect(attempts.every((a) => a.code === 5)).toBe(true);
    // Old code: "blocked", refused without even checking the secret.
    const t0 = performance.now();
    const real = await connectDevice(broker.url, 'dev-a');
    broker.track(real);
    expect(performance.now() - t0).toBeLessThan(MAX_MS); // a throttled refusal of that pair waits MAX_MS
    const viaMosquitto = await mosquittoPub({ port: broker.port, id: 'dev-a', password: deviceSecret('dev-a'), bind: '127.0.0.2' });
    expect(viaMosquitto.code, viaMosquitto.out).toBe(0);
  });

  it("never throttles the platform's own services for someone else's failures", async () => {
    const ingest = await connectService(broker.url, 'svc-ingest', { clientId: 'svc-ingest-live' });
    broker.track(ingest);
    // Wrong guesses on the very client ids the services connect with next, from the
    // services' own address and from another one.
    const attacks = await Promise.all(
      ['svc-ingest', 'svc-api'].flatMap((account) =>
        ['127.0.0.1', '127.0.0.5'].flatMap((from) => Array.from({ length: 10 }, () => wrong(`${account}-after-attack`, from, account))),
      ),
    );
    expect(attacks.every((a) => a.code === 5)).toBe(true);
    expect(ingest.connected).toBe(true);
    for (const account of ['svc-ingest', 'svc-api'] as const) {
      const t0 = performance.now();
      const c = await connectService(broker.url, account, { clientId: `${account}-after-attack` });
      broker.track(c);
      expect(performance.now() - t0).toBeLessThan(MAX_MS); // a throttled refusal of that pair waits MAX_MS
    }
    const api = await mosquittoPub({
      port: broker.port,
      id: 'svc-api-mosq',
      username: 'svc-api',
      password: serviceSecret('svc-api'),
      topic: 'heat/v1/devices/dev-a/config',
    });
    expect(api.code, api.out).toBe(0);
  });

  it('does not block the devices behind an address that failed 100 times', async () => {
    const behind = '127.0.0.3';
    const before = broker.app.metrics().authFailures;
    for (let batch = 0; batch < 5; batch++) {
      const r = await Promise.all(Array.from({ length: 20 }, (_, i) => wrong(`guess-${batch}-${i}`, behind)));
      expect(r.every((a) => a.code === 5)).toBe(true);
    }
    expect(broker.app.metrics().authFailures - before).toBe(100);
    // The address is now guessing across ids: its next refusal waits the longest ...
    expect((await wrong('guess-more', behind)).ms).toBeGreaterThanOrEqual(MAX_MS * 0.9);
    // ... while every real device behind it gets in with its secret, without delay.
    for (const id of ['dev-n0', 'dev-n1', 'dev-n2']) {
      const r = await mosquittoPub({ port: broker.port, id, password: deviceSecret(id), bind: behind });
      expect(r.code, r.out).toBe(0);
    }
  });
});
