/**
 * predicted_cold live, through the public contract only (issue #20): a real influxd, the whole
 * platform (broker, ingest with the rules and the forecaster, API) and a small city. Its devices
 * publish two days of readings with MQTT.js and their own credentials (hour by hour, as a
 * backlog); the rooms are warm and nothing is predicted. An engineer then posts a frost forecast
 * over REST: the ingest's forecaster takes it from the store, opens `predicted_cold` for the
 * flats that will fall below the standard, with the prediction and its uncertainty as evidence,
 * and the API opens a proactive apartment order from it that a dispatcher can see and schedule.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../domain/incident.schema.ts';
import type { Order } from '../domain/orders/order.ts';
import { policyForCity } from '../domain/policy.ts';
import { topics } from '../domain/topics.ts';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { waitFor } from './harness/ports.ts';
import { frostCity, frostForecast, frostHistory, sensorOf } from './predicted-cold.fixture.ts';

const policy = policyForCity('beijing');
const { city, secrets } = frostCity();
let influxd: InfluxdHandle;
let p: TestPlatform;
let token: string;
const clients = new Map<string, MqttClient>();

const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
  const r = await fetch(`${p.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: (await r.json()) as T };
};
const incidents = async (kind: string) => (await api<Incident[]>('GET', `/api/v1/incidents?kind=${kind}`)).json;

beforeAll(async () => {
  influxd = await startInfluxd();
  p = await startTestPlatform({
    demo: false,
    fleetSpeed: false,
    influxUrl: influxd.url,
    city: { city, secrets },
    ingestOptions: { forecastEveryMs: 300 },
  });
  token = await login(p.httpUrl, 'admin', 'admin-test-password');
  for (const d of city.devices) {
    clients.set(
      d.id,
      await mqtt.connectAsync(`mqtt://127.0.0.1:${p.ports.mqtt}`, {
        clientId: d.id,
        username: d.id,
        password: secrets.get(d.id)!,
        protocolVersion: 4,
        reconnectPeriod: 0,
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  for (const c of clients.values()) await c.endAsync();
  await p?.stop();
  await influxd?.stop();
});

describe('predicted_cold on live data', () => {
  it('opens from readings over MQTT and a forecast over REST, and becomes an order the dispatcher sees', async () => {
    const now = Date.now();
    // Hour by hour, every device its backlog of that hour, each acknowledged (QoS 1) before the next hour.
    for (const h of frostHistory(policy, now)) {
      for (const [deviceId, payloads] of h.byDevice)
        await clients.get(deviceId)!.publishAsync(topics.telemetry(deviceId), JSON.stringify(payloads), { qos: 1 });
    }
    // The last device of the last hour is stored: the whole backlog is (the ingest keeps arrival order).
    const last = sensorOf('a-302');
    await waitFor(
      async () => {
        const r = await api<{ history?: { ts: number; value: number | null }[] }>(
          'GET',
          `/api/v1/measurements?deviceId=${last}&field=temp&from=${now - 3_600_000}&to=${now + 60_000}`,
        );
        return r.status === 200 && (r.json.history ?? []).some((x) => x.value !== null && x.ts >= now - 3_600_000);
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the backlog stored' },
    );

    // Warm rooms and no forecast yet: the persistence fallback sees no cold coming.
    expect(await incidents('predicted_cold')).toEqual([]);

    const frost = frostForecast(Date.now());
    const posted = await api<{ hours: number }>('POST', '/api/v1/forecasts', {
      ...frost,
      issuedAt: new Date(frost.issuedAt).toISOString(),
    });
    expect(posted.status).toBe(201);

    const predicted = await waitFor(
      async () => {
        const list = await incidents('predicted_cold');
        return list.find((i) => i.subjectId === 'a-101' && i.status === 'open');
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'predicted_cold for a-101' },
    );
    expect(predicted).toMatchObject({
      kind: 'predicted_cold',
      subjectType: 'apartment',
      apartmentId: 'a-101',
      buildingId: 'b-p',
      stationId: 'st-p',
    });
    // The prediction and its uncertainty are the evidence, and the frost forecast is what it stands on.
    const ev = predicted.evidence;
    expect(ev.outdoorSource).toBe('forecast');
    expect(Number(ev.probability)).toBeGreaterThanOrEqual(0.5);
    expect(Number(ev.predictedMinC)).toBeLessThan(policy.comfort.standardC); // N2
    expect(Number(ev.sigmaC)).toBeGreaterThan(0);
    expect(Number(ev.firstBelowAt)).toBeGreaterThan(predicted.startTs);
    expect(Number(ev.lastC)).toBeGreaterThanOrEqual(policy.comfort.standardC);
    // Nobody is cold yet: the threshold rule has opened nothing.
    expect(await incidents('apartment_cold')).toEqual([]);

    // The proactive order, through the public API, before the resident is cold.
    const order = await waitFor(
      async () =>
        (await api<Order[]>('GET', '/api/v1/orders?apartmentId=a-101&open=true')).json.find((o) => o.incidentIds.includes(predicted.id)),
      { timeoutMs: 20_000, intervalMs: 500, what: 'order from predicted_cold' },
    );
    expect(order).toMatchObject({ source: 'proactive', subjectType: 'apartment', apartments: ['a-101'], status: 'new' });
    expect(order.content).toContain('预计数小时内住户室温将低于标准');
  }, 180_000);
});
