/**
 * Issue 13, finding 9 (broker side): connections that never send CONNECT. Before the fix
 * any number of them could be held per address, each for 30 s. Now a CONNECT deadline
 * (default 10 s) closes them, and past `maxPendingPerAddress` the address' oldest pending
 * connection is dropped, so a real device behind the same address still gets in.
 * Also issue 14's [MQTT-3.1.3-8]: a zero-length client id with CleanSession 0 gets
 * CONNACK 0x02 "identifier rejected" and the connection closed.
 */
import { generate } from 'mqtt-packet';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerDefaults } from '../../broker/options.ts';
import { connectDevice, deviceSecret } from '../../broker/testing.fixture.ts';
import { brokerAppFixture } from '../harness/broker.fixture.ts';
import { waitFor } from '../harness/ports.ts';
import { connectPacket, mosquittoPub, rawMqtt, type RawMqtt } from './broker-clients.ts';

const CAP = 20;

describe('broker: unauthenticated connections are bounded (finding 9)', () => {
  // The default CONNECT deadline, a small per-address cap.
  const broker = brokerAppFixture({ options: { maxPendingPerAddress: CAP } });
  const raws: RawMqtt[] = [];

  afterAll(() => {
    for (const r of raws) r.socket.destroy();
  });

  it('caps connections without CONNECT per address: the oldest go, a real device from that address still gets in', async () => {
    const from = '127.0.0.6';
    const silent: RawMqtt[] = [];
    for (let i = 0; i < 100; i++) silent.push(await rawMqtt(broker.port, from));
    raws.push(...silent);
    // Well before any deadline, the broker has let go of all but CAP of them.
    let closed = 0;
    for (const s of silent) void s.closed.then(() => closed++);
    await waitFor(() => closed >= 100 - CAP, { timeoutMs: 5_000, what: `silent sockets dropped (${closed})` });
    expect(broker.app.metrics().pendingConnections).toBeLessThanOrEqual(CAP);
    expect(broker.app.metrics().refusals.pre_auth_limit).toBeGreaterThanOrEqual(100 - CAP);
    // Another address is not affected, and neither is a real client behind the same one.
    const r = await mosquittoPub({ port: broker.port, id: 'dev-a', password: deviceSecret('dev-a'), bind: from });
    expect(r.code, r.out).toBe(0);
    const other = await connectDevice(`mqtt://127.0.0.1:${broker.port}`, 'dev-b');
    await other.endAsync();
    for (const s of silent) s.socket.destroy();
    await waitFor(() => broker.app.metrics().pendingConnections === 0, { what: 'pending connections gone' });
  });

  it(`closes a connection whose CONNECT has not arrived within the deadline (${brokerDefaults.connectTimeoutMs} ms), also a half-sent one`, async () => {
    expect(brokerDefaults.connectTimeoutMs).toBeLessThanOrEqual(10_000);
    const silent = await rawMqtt(broker.port, '127.0.0.7');
    const partial = await rawMqtt(broker.port, '127.0.0.7');
    raws.push(silent, partial);
    // The first bytes of a CONNECT, then nothing (slowloris).
    partial.socket.write(Buffer.from([0x10, 0x40, 0x00, 0x04]));
    const t0 = performance.now();
    const before = broker.app.metrics().refusals.connect_timeout;
    await Promise.all([silent.closed, partial.closed]);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(brokerDefaults.connectTimeoutMs * 0.9);
    expect(ms).toBeLessThan(brokerDefaults.connectTimeoutMs + 5_000);
    expect(broker.app.metrics().refusals.connect_timeout - before).toBe(2);
  }, 30_000);

  it('answers a zero-length client id with CleanSession 0 with CONNACK 0x02 and closes [MQTT-3.1.3-8]', async () => {
    const c = await rawMqtt(broker.port);
    raws.push(c);
    // mqtt-packet refuses to encode this, so encode it clean and clear the CleanSession flag:
    // fixed header (2 bytes here), protocol name (6), level (1), then the connect flags.
    const bytes = generate(connectPacket({ clientId: '', clean: true, username: 'dev-a', password: Buffer.from(deviceSecret('dev-a')) }));
    bytes[9] = bytes[9]! & ~0x02;
    c.socket.write(bytes);
    expect(await c.connack()).toBe(2);
    await c.closed;
    // With CleanSession 1 the id is the server's to assign [MQTT-3.1.3-6]; a device still
    // has to use its own id as client id, so that is "not authorized", not "identifier rejected".
    const clean = await rawMqtt(broker.port);
    raws.push(clean);
    clean.send(connectPacket({ clientId: '', clean: true, username: 'dev-a', password: Buffer.from(deviceSecret('dev-a')) }));
    expect(await clean.connack()).toBe(5);
  });
});
