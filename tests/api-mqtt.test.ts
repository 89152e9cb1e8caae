/**
 * The API's MQTT side against the real broker (broker/app.ts) and real MQTT.js clients:
 * incidents from the ingest's account become orders; live readings reach sockets; device
 * status is tracked; disabling a device publishes the registry change and the broker kicks
 * it; incidents published while the API is down arrive when it comes back (clean: false).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { io as ioClient, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LiveReading, ServerToClientEvents } from '../domain/events.ts';
import { topics } from '../domain/topics.ts';
import { buildApi } from '../api/app.ts';
import { waitFor } from './harness/ports.ts';
import { T0, type TestApi } from './api-fixture.ts';
import { startApiOverMqtt, stationFault, type ApiOverMqtt } from './api-mqtt.fixture.ts';

const SVC = 'svc-secret-for-api-mqtt-test';
let m: ApiOverMqtt;
let url = '';
let t: TestApi;
let ingest: MqttClient;
const incident = stationFault;

beforeAll(async () => {
  m = await startApiOverMqtt(SVC);
  ({ t, url, ingest } = m);
});
afterAll(() => m?.close());

describe('API over MQTT', () => {
  it('turns a published incident into one order, pushed to the city desk', async () => {
    await ingest.publishAsync(topics.incidents, JSON.stringify(incident('s1')), { qos: 1 });
    await ingest.publishAsync(topics.incidents, JSON.stringify(incident('s1')), { qos: 1 }); // duplicate delivery
    const orders = await waitFor(
      () => {
        const list = t.app.heat.ctx.ordersRepo.list({ stationId: 's1' });
        return list.length ? list : undefined;
      },
      { what: 'order from incident' },
    );
    await waitFor(() => t.app.heat.metrics().incidentDuplicates === 1, { what: 'duplicate seen' });
    expect(t.app.heat.ctx.ordersRepo.list({ stationId: 's1' })).toHaveLength(1);
    expect(orders[0]).toMatchObject({ source: 'proactive', subjectType: 'station', officeId: 'o1' });
  });

  it('pushes live readings from the platform topic to sockets', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address();
    const s: Socket<ServerToClientEvents, ClientToServerEvents> = ioClient(
      `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
      {
        auth: { token: t.tokens['staff-o1'] },
        transports: ['websocket'],
        forceNew: true,
      },
    );
    await new Promise<void>((res, rej) => {
      s.once('connect', () => res());
      s.once('connect_error', rej);
    });
    const got: LiveReading[][] = [];
    s.on('readings', (b) => got.push([...b]));
    const batch: LiveReading[] = [
      { deviceId: 'sm-s1', kind: 'station_meter', ts: T0, fields: { secondarySupplyTemp: 52 }, stationId: 's1' },
      { deviceId: 'sm-s2', kind: 'station_meter', ts: T0, fields: { secondarySupplyTemp: 50 }, stationId: 's2' },
    ];
    await ingest.publishAsync(topics.live, JSON.stringify(batch), { qos: 0 });
    await waitFor(() => got.length > 0, { what: 'live readings on the socket' });
    expect(got[0]).toEqual([batch[0]]); // office o1 staff: station s1 only
    s.close();
  });

  it('tracks device status, and a disabled device is announced and kicked', async () => {
    const dev = await mqtt.connectAsync(url, {
      clientId: 'rs-b1-a11',
      username: 'rs-b1-a11',
      password: 'secret-rs-b1-a11',
      reconnectPeriod: 0,
      protocolVersion: 4,
      will: { topic: topics.status('rs-b1-a11'), payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await dev.publishAsync(topics.status('rs-b1-a11'), 'online', { qos: 1, retain: true });
    await waitFor(
      async () =>
        (await t.req('GET', '/api/v1/devices?kind=room_sensor', 'engineer'))
          .json<{ id: string; online: boolean }[]>()
          .find((d) => d.id === 'rs-b1-a11')?.online,
      { what: 'online' },
    );
    const closed = new Promise<void>((res) => dev.once('close', () => res()));
    const res = await t.req('POST', '/api/v1/devices/rs-b1-a11/disable', 'engineer');
    expect(res.json()).toMatchObject({ device: { enabled: false }, published: true });
    await closed;
    expect(t.registry.getDevice('rs-b1-a11')?.enabled).toBe(false);
    dev.end(true);
  });

  it('receives incidents published while it was down (persistent session)', async () => {
    await t.app.close();
    await ingest.publishAsync(topics.incidents, JSON.stringify(incident('s2')), { qos: 1 });
    const again = await buildApi({
      ...t.app.heat.ctx,
      logger: pino({ level: 'silent' }),
      tickIntervalMs: 0,
      mqtt: m.apiMqtt,
    });
    try {
      const order = await waitFor(() => again.heat.ctx.ordersRepo.list({ stationId: 's2' })[0], { what: 'order from the queued incident' });
      expect(order).toMatchObject({ subjectType: 'station', officeId: 'o2' });
    } finally {
      await again.close();
    }
  });
});
