/**
 * Broker authentication and protocol v1 ACL with real clients (MQTT.js, mosquitto_pub/sub)
 * against a real broker on a free port.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../domain/clock.ts';
import { topics } from '../domain/topics.ts';
import { serviceSecret, closed, connackCode, connectDevice, connectService, deviceSecret, subackCodes } from '../broker/testing.fixture.ts';
import { brokerAppFixture } from './harness/broker.fixture.ts';
import { waitFor } from './harness/ports.ts';

const run = promisify(execFile);

/** Run a mosquitto client; resolves with its exit code and output, never rejects. */
async function mosquitto(cmd: 'mosquitto_pub' | 'mosquitto_sub', args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(cmd, args, { timeout: 15_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('broker: authentication and ACL (protocol v1)', () => {
  const clock = new ManualClock(Date.parse('2026-01-10T08:00:00Z'));
  // Slow-down off so the suite does not wait (tests/security/broker-lockout.test.ts has it on).
  const broker = brokerAppFixture({ clock, options: { authFailureDelayMs: 0, authWindowMs: 60_000 } });

  /** Messages seen by the ingest service account (subscribed to all telemetry and status). */
  const seen: { topic: string; payload: string; retain: boolean }[] = [];

  beforeAll(async () => {
    const ingest = broker.track(await connectService(broker.url, 'svc-ingest'));
    await ingest.subscribeAsync([...topics.allTelemetry, topics.allStatus], { qos: 1 });
    ingest.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
  });

  it('lets a known device in and carries its telemetry to the ingest', async () => {
    const a = broker.track(await connectDevice(broker.url, 'dev-a'));
    await a.publishAsync(topics.telemetry('dev-a'), JSON.stringify({ ts: 1, temp: 21.5 }), { qos: 1 });
    await waitFor(() => seen.some((m) => m.topic === topics.telemetry('dev-a')), { what: 'telemetry at ingest' });
    expect(broker.app.metrics().connectedDevices).toBeGreaterThanOrEqual(1);
  });

  it('refuses wrong password, unknown device and disabled device with CONNACK 5, each counted', async () => {
    const before = broker.app.metrics().refusals;
    expect(await connackCode(broker.url, { clientId: 'dev-b', username: 'dev-b', password: 'wrong' })).toBe(5);
    expect(await connackCode(broker.url, { clientId: 'nobody', username: 'nobody', password: 'x' })).toBe(5);
    expect(await connackCode(broker.url, { clientId: 'dev-off', username: 'dev-off', password: deviceSecret('dev-off') })).toBe(5);
    // client id must equal the username for devices
    expect(await connackCode(broker.url, { clientId: 'dev-a', username: 'dev-b', password: deviceSecret('dev-b') })).toBe(5);
    const after = broker.app.metrics().refusals;
    expect(after.bad_credentials - before.bad_credentials).toBe(1);
    expect(after.unknown_client - before.unknown_client).toBe(1);
    expect(after.disabled - before.disabled).toBe(1);
    expect(after.client_id_mismatch - before.client_id_mismatch).toBe(1);
  });

  it('works with mosquitto_pub: good secret delivers, wrong secret is "not authorised"', async () => {
    const ok = await mosquitto('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv311', '-q', '1'],
      ...['-i', 'dev-b', '-u', 'dev-b', '-P', deviceSecret('dev-b')],
      ...['-t', topics.telemetry('dev-b'), '-m', '{"ts":2,"temp":19.0}'],
    ]);
    expect(ok.code).toBe(0);
    await waitFor(() => seen.some((m) => m.topic === topics.telemetry('dev-b') && m.payload.includes('19.0')), {
      what: 'mosquitto_pub reading',
    });

    const bad = await mosquitto('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv311', '-q', '1'],
      ...['-i', 'dev-b', '-u', 'dev-b', '-P', 'not-the-secret'],
      ...['-t', topics.telemetry('dev-b'), '-m', '{}'],
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/not authori[sz]ed/i);
  });

  it("cuts off a device publishing to another device's topic; nothing is delivered", async () => {
    const before = broker.app.metrics().refusals.publish_denied;
    const a = broker.track(await connectDevice(broker.url, 'dev-a', { clientId: 'dev-a' }));
    const gone = closed(a);
    a.publish(topics.telemetry('dev-b'), JSON.stringify({ ts: 3, temp: -40 }), { qos: 1 });
    await gone;
    await waitFor(() => broker.app.metrics().refusals.publish_denied === before + 1, { what: 'publish_denied counted' });
    // Refusal happens before aedes publishes anything, so once counted it is final.
    expect(seen.some((m) => m.payload.includes('-40'))).toBe(false);
    // The platform's topics are not a device's either.
    const a2 = broker.track(await connectDevice(broker.url, 'dev-a'));
    const gone2 = closed(a2);
    a2.publish(topics.incidents, '{"forged":true}', { qos: 1 });
    await gone2;
    expect(broker.app.metrics().refusals.publish_denied).toBe(before + 2);
  });

  it("refuses a device's '#' and foreign subscriptions with SUBACK 0x80, grants its own config", async () => {
    const before = broker.app.metrics().refusals;
    const api = broker.track(await connectService(broker.url, 'svc-api'));
    await api.publishAsync(topics.config('dev-b'), JSON.stringify({ intervalMin: 10 }), { qos: 1, retain: true });

    const b = broker.track(await connectDevice(broker.url, 'dev-b'));
    const got: string[] = [];
    b.on('message', (t) => got.push(t));
    expect(await subackCodes(b, ['#', topics.config('dev-a'), topics.config('dev-b')])).toEqual([128, 128, 1]);
    await waitFor(() => got.includes(topics.config('dev-b')), { what: 'retained config' });
    const after = broker.app.metrics().refusals;
    expect(after.wildcard_denied - before.wildcard_denied).toBe(1);
    expect(after.subscribe_denied - before.subscribe_denied).toBe(1);

    // Telemetry from another device never reaches it.
    const a = broker.track(await connectDevice(broker.url, 'dev-a'));
    await a.publishAsync(topics.telemetry('dev-a'), '{"ts":4,"temp":20}', { qos: 1 });
    await waitFor(() => seen.some((m) => m.payload.includes('"ts":4')), { what: 'ingest got ts 4' });
    expect(got).toEqual([topics.config('dev-b')]);
  });

  it("mosquitto_sub: a device's '#' is denied", async () => {
    const before = broker.app.metrics().refusals.wildcard_denied;
    const r = await mosquitto('mosquitto_sub', [
      ...['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv311'],
      ...['-i', 'dev-b', '-u', 'dev-b', '-P', deviceSecret('dev-b')],
      ...['-t', '#', '-C', '1', '-W', '3'],
    ]);
    expect(r.out).toMatch(/denied/i);
    expect(r.out).not.toMatch(/telemetry/);
    expect(broker.app.metrics().refusals.wildcard_denied).toBe(before + 1);
  });

  it('passes wills through: retained offline on the device status topic when it drops', async () => {
    const c = broker.track(
      await connectDevice(broker.url, 'dev-g2', {
        will: { topic: topics.status('dev-g2'), payload: Buffer.from('offline'), qos: 1, retain: true },
      }),
    );
    await c.publishAsync(topics.status('dev-g2'), 'online', { qos: 1, retain: true });
    await waitFor(() => seen.some((m) => m.topic === topics.status('dev-g2') && m.payload === 'online'));
    c.stream.destroy(); // no DISCONNECT → the will goes out
    await waitFor(() => seen.some((m) => m.topic === topics.status('dev-g2') && m.payload === 'offline'), { what: 'will' });
    // A late subscriber gets the retained status.
    const api = broker.track(await connectService(broker.url, 'svc-api', { clientId: 'svc-api-late' }));
    const status = new Promise<string>((resolve) => api.on('message', (t, p) => t === topics.status('dev-g2') && resolve(p.toString())));
    await api.subscribeAsync(topics.status('dev-g2'), { qos: 1 });
    expect(await status).toBe('offline');
  });

  it('lets a gateway publish only for the devices the registry assigns to it', async () => {
    const gw = broker.track(await connectDevice(broker.url, 'gw-1'));
    await gw.publishAsync(topics.gatewayTelemetry('gw-1', 'dev-g1'), '{"ts":5,"temp":22}', { qos: 1 });
    await waitFor(() => seen.some((m) => m.topic === topics.gatewayTelemetry('gw-1', 'dev-g1')), { what: 'gateway reading' });
    expect(await subackCodes(gw, [topics.config('dev-g1'), topics.config('dev-a')])).toEqual([1, 128]);
    const before = broker.app.metrics().refusals.publish_denied;
    const gone = closed(gw);
    gw.publish(topics.gatewayTelemetry('gw-1', 'dev-a'), '{"ts":6,"temp":99}', { qos: 1 });
    await gone;
    expect(broker.app.metrics().refusals.publish_denied).toBe(before + 1);
    expect(seen.some((m) => m.payload.includes('"temp":99'))).toBe(false);
  });

  it('gives service accounts their own scopes', async () => {
    expect(await connackCode(broker.url, { clientId: 'svc-ingest-x', username: 'svc-ingest', password: 'wrong' })).toBe(5);
    expect(await connackCode(broker.url, { clientId: 'rogue', username: 'svc-ingest', password: serviceSecret('svc-ingest') })).toBe(5);
    const sim = broker.track(await connectService(broker.url, 'svc-sim', { clientId: 'svc-sim-1' }));
    await sim.publishAsync(topics.telemetry('dev-b'), '{"ts":7,"temp":18}', { qos: 1 });
    await waitFor(() => seen.some((m) => m.payload.includes('"ts":7')), { what: 'replayed reading' });
    expect(await subackCodes(sim, topics.allTelemetry[0])).toEqual([128]);
    const ingest = broker.track(await connectService(broker.url, 'svc-ingest', { clientId: 'svc-ingest-2' }));
    const gone = closed(ingest);
    ingest.publish(topics.config('dev-a'), '{"intervalMin":1}', { qos: 1 });
    await gone;
  });

  it('kicks a device disabled while connected, on the registry change notice', async () => {
    broker.registry.upsertDevice({ id: 'dev-k', kind: 'room_sensor', intervalMin: 5, enabled: true }, deviceSecret('dev-k'));
    const k = broker.track(await connectDevice(broker.url, 'dev-k'));
    const gone = closed(k);
    broker.registry.setDeviceEnabled('dev-k', false);
    const api = broker.track(await connectService(broker.url, 'svc-api', { clientId: 'svc-api-reg' }));
    await api.publishAsync(topics.registryChanged, JSON.stringify({ deviceId: 'dev-k', change: 'disabled' }), { qos: 1 });
    await gone;
    expect(broker.app.metrics().refusals.kicked).toBeGreaterThanOrEqual(1);
    expect(await connackCode(broker.url, { clientId: 'dev-k', username: 'dev-k', password: deviceSecret('dev-k') })).toBe(5);
  });

  it('counts repeated failures of a client id without ever refusing its right secret', async () => {
    const creds = { clientId: 'dev-g1', username: 'dev-g1' };
    const before = broker.app.metrics();
    for (let i = 0; i < 6; i++) expect(await connackCode(broker.url, { ...creds, password: `guess-${i}` })).toBe(5);
    const m = broker.app.metrics();
    expect(m.authFailures - before.authFailures).toBe(6);
    expect(m.authThrottledNow).toBeGreaterThanOrEqual(1);
    expect(await connackCode(broker.url, { ...creds, password: deviceSecret('dev-g1') })).toBeUndefined();
    clock.advance(60_001);
  });

  it('reports the queue depth of an offline persistent subscriber, and its drain', async () => {
    const q = await connectService(broker.url, 'svc-ingest', { clientId: 'svc-ingest-q', clean: false });
    await q.subscribeAsync(topics.telemetry('dev-b'), { qos: 1 });
    await q.endAsync();
    await waitFor(() => broker.app.metrics().queueDepth === 0, { what: 'queue settled' });
    const b = broker.track(await connectDevice(broker.url, 'dev-b'));
    for (let n = 0; n < 3; n++) await b.publishAsync(topics.telemetry('dev-b'), `{"q":${n}}`, { qos: 1 });
    // The online ingest acknowledges its copies; the offline session's three stay queued.
    await waitFor(() => broker.app.metrics().queueDepth === 3, { what: `queue depth 3 (is ${broker.app.metrics().queueDepth})` });
    const back = mqtt.connect(broker.url, {
      clientId: 'svc-ingest-q',
      username: 'svc-ingest',
      password: serviceSecret('svc-ingest'),
      clean: false,
      reconnectPeriod: 0,
    });
    let got = 0;
    back.on('message', () => got++);
    await waitFor(() => got === 3 && broker.app.metrics().queueDepth === 0, { what: 'queue drained' });
    await back.endAsync();
  });

  it('renders Prometheus text with refusals by reason', () => {
    const text = broker.app.prometheus();
    expect(text).toMatch(/^# TYPE heat_broker_refusals_total counter$/m);
    expect(text).toMatch(/heat_broker_refusals_total\{broker="[^"]+",reason="bad_credentials"\} [1-9]/);
    expect(text).toMatch(/heat_broker_connected_clients\{broker="[^"]+",kind="device"\} \d+/);
  });
});
