/**
 * Forecast input and views through the public contract (issue #20): REST with each role,
 * MQTT from a service account with Debian's mosquitto_pub against the real broker, refusals
 * that store nothing, and the risk / advice / balancing routes on stored history with the
 * engineer's approve and dismiss.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { HOUR_MS, MINUTE_MS } from '../domain/clock.ts';
import type { AdviceRecord, RiskResponse } from '../domain/forecast/forecast.api.schema.ts';
import { topics } from '../domain/topics.ts';
import { waitFor } from './harness/ports.ts';
import { T0, startTestApi, type TestApi } from './api-fixture.ts';
import { seedStationHistory } from './forecast.fixture.ts';

const SVC = 'svc-secret-for-forecast-test';
const run = promisify(execFile);
let broker: BrokerApp;
let port = 0;
let t: TestApi;
const hourAt = Math.floor(T0 / HOUR_MS) * HOUR_MS;
const forecast = (o: { city?: string; stationId?: string; first?: number; temps?: number[]; issuedAt?: number } = {}) => ({
  city: o.city ?? 'beijing',
  ...(o.stationId ? { stationId: o.stationId } : {}),
  issuedAt: new Date(o.issuedAt ?? hourAt).toISOString(),
  source: 'test',
  hours: (o.temps ?? Array.from({ length: 30 }, (_, k) => -2 - k * 0.1)).map((v, k) => ({
    ts: (o.first ?? hourAt) + k * HOUR_MS,
    outdoorTemp: v,
    spreadC: 0.5 + 0.05 * k,
  })),
});

const mosquittoPub = (user: string, password: string, topic: string, message: string) =>
  // Async: a synchronous child would block this process, which runs the broker.
  run(
    'mosquitto_pub',
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-V',
      'mqttv311',
      '-q',
      '1',
      '-i',
      `${user}-pub`,
      '-u',
      user,
      '-P',
      password,
      '-t',
      topic,
      '-m',
      message,
    ],
    { timeout: 15_000 },
  );

beforeAll(async () => {
  t = await startTestApi(
    {},
    {
      prepare: async (registry) => {
        registry.upsertServiceAccount('svc-api', ['api'], SVC);
        registry.upsertServiceAccount('svc-sim', ['replay'], SVC);
        broker = await createBrokerApp({ registry, logger: pino({ level: 'silent' }) });
        port = (await broker.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' })).mqttPort;
        return { mqtt: { url: `mqtt://127.0.0.1:${port}`, clientId: 'svc-api', username: 'svc-api', password: SVC } };
      },
    },
  );
  await waitFor(async () => (await t.req('GET', '/api/v1/health')).json<{ mqtt: boolean }>().mqtt, { what: 'api mqtt connected' });
});

afterAll(async () => {
  await t?.close();
  await broker?.close();
});

/**
 * What the platform answers for the newest forecast right now. A refused forecast must leave it
 * exactly as it was — compared with what was there before, not with "nothing at all", so the
 * check holds whatever else feeds forecasts (the demo's weather service publishes its own in a
 * demo stack; this API has no fleet and none runs here).
 */
const latest = async (query = '') => {
  const r = await t.req('GET', `/api/v1/forecasts/latest${query}`, 'engineer');
  return { status: r.statusCode, body: r.body };
};

describe('POST /api/v1/forecasts', () => {
  it('is refused without a token and for roles that do not run the plant', async () => {
    const before = await latest();
    expect((await t.req('POST', '/api/v1/forecasts', undefined, forecast())).statusCode).toBe(401);
    for (const who of ['dispatcher', 'resident1', 'staff-o1'])
      expect((await t.req('POST', '/api/v1/forecasts', who, forecast())).statusCode).toBe(403);
    expect(await latest()).toEqual(before);
  });

  it.each([
    ['an unknown field', { ...forecast(), extra: 1 }, 'body'],
    ['hours off the hour', forecast({ first: hourAt + 15 * MINUTE_MS }), 'not_hourly'],
    ['another city', forecast({ city: 'harbin' }), 'this platform serves beijing'],
    ['an unknown station', forecast({ stationId: 'nope' }), 'unknown station'],
    ['an implausible temperature', forecast({ temps: [99] }), 'outdoorTemp'],
  ])('refuses %s with a coded 400 and stores nothing', async (_what, body, text) => {
    const before = { city: await latest(), station: await latest(`?stationId=${body.stationId ?? 's1'}`) };
    const res = await t.req('POST', '/api/v1/forecasts', 'engineer', body);
    expect(res.statusCode).toBe(400);
    expect(res.json<{ code: string; message: string }>()).toMatchObject({ code: 'HEAT_ERR_VALIDATION' });
    expect(res.json<{ message: string }>().message).toContain(text);
    expect({ city: await latest(), station: await latest(`?stationId=${body.stationId ?? 's1'}`) }).toEqual(before);
  });

  it('stores a valid forecast, city-wide and per station, and serves the latest', async () => {
    // Nothing else feeds this API's forecasts (no fleet, no demo weather service): the refusals above stored nothing.
    expect((await latest()).status).toBe(404);
    const res = await t.req('POST', '/api/v1/forecasts', 'engineer', forecast());
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ city: 'beijing', issuedAt: hourAt, hours: 30 });
    expect((await t.req('POST', '/api/v1/forecasts', 'admin', forecast({ stationId: 's2', temps: [5, 6] }))).statusCode).toBe(201);
    const city = (await t.req('GET', '/api/v1/forecasts/latest', 'dispatcher')).json<{
      hours: { ts: number; outdoorTemp: number; spreadC: number }[];
    }>();
    expect(city.hours).toHaveLength(30);
    expect(city.hours[1]).toEqual({ ts: hourAt + HOUR_MS, outdoorTemp: -2.1, spreadC: 0.55 });
    const s2 = (await t.req('GET', '/api/v1/forecasts/latest?stationId=s2', 'dispatcher')).json<{ stationId: string; hours: unknown[] }>();
    expect(s2).toMatchObject({ stationId: 's2', hours: [{ outdoorTemp: 5 }, { outdoorTemp: 6 }] });
  });
});

describe('MQTT heat/v1/platform/forecast', () => {
  it('a service account publishes a forecast with mosquitto_pub; the API validates and stores it', async () => {
    const body = forecast({ stationId: 's1', temps: [-7, -8, -9] });
    await mosquittoPub('svc-sim', SVC, topics.forecast, JSON.stringify(body));
    const got = await waitFor(
      async () => {
        const r = await t.req('GET', '/api/v1/forecasts/latest?stationId=s1', 'engineer');
        return r.statusCode === 200 ? r.json<{ hours: { outdoorTemp: number }[] }>() : undefined;
      },
      { what: 'forecast stored from MQTT' },
    );
    expect(got.hours.map((h) => h.outdoorTemp)).toEqual([-7, -8, -9]);
  });

  it('a bad forecast over MQTT is refused, the stored one stays and the consumer goes on', async () => {
    const before = (await t.req('GET', '/api/v1/forecasts/latest?stationId=s1', 'engineer')).json();
    await mosquittoPub(
      'svc-sim',
      SVC,
      topics.forecast,
      JSON.stringify({ ...forecast({ stationId: 's1' }), hours: [{ ts: 'soon', outdoorTemp: 1 }] }),
    );
    await mosquittoPub('svc-sim', SVC, topics.forecast, 'not json at all');
    // A good message after the bad ones shows the consumer is still alive.
    await mosquittoPub(
      'svc-sim',
      SVC,
      topics.forecast,
      JSON.stringify(forecast({ stationId: 's2', temps: [1], issuedAt: hourAt + MINUTE_MS })),
    );
    await waitFor(
      async () => (await t.req('GET', '/api/v1/forecasts/latest?stationId=s2', 'engineer')).json<{ hours: unknown[] }>().hours.length === 1,
      { what: 'later forecast stored' },
    );
    expect((await t.req('GET', '/api/v1/forecasts/latest?stationId=s1', 'engineer')).json()).toEqual(before);
  });

  it('a device may not publish a forecast', async () => {
    const before = (await t.req('GET', '/api/v1/forecasts/latest', 'engineer')).json();
    // The broker refuses the PUBLISH (MQTT 3.1.1 has no PUBACK error code: the device is disconnected).
    await mosquittoPub('rs-b1-a11', 'secret-rs-b1-a11', topics.forecast, JSON.stringify(forecast({ temps: [30] }))).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect((await t.req('GET', '/api/v1/forecasts/latest', 'engineer')).json()).toEqual(before);
  });
});

describe('risk, advice and balancing from stored history', () => {
  beforeAll(() => seedStationHistory(t.store, hourAt));

  it("shows each monitored apartment's predicted risk, and what an apartment without a model lacks", async () => {
    const res = await t.req('GET', '/api/v1/forecasts/risk?stationId=s1', 'dispatcher');
    expect(res.statusCode).toBe(200);
    const [s1] = res.json<RiskResponse>().stations;
    expect(s1?.apartments).toHaveLength(8);
    for (const a of s1!.apartments) {
      expect(a.status).toBe('ready');
      expect(a.probability).toBeGreaterThanOrEqual(0);
      expect(a.fitHours).toBeGreaterThan(36);
    }
    const cold = s1!.apartments.find((a) => a.apartmentId === 'b2-a22')!;
    const warm = s1!.apartments.find((a) => a.apartmentId === 'b1-a11')!;
    expect(cold.minC).toBeLessThan(warm.minC ?? Number.NaN);
    // Station s2 has no history: its flats say so.
    const s2 = (await t.req('GET', '/api/v1/forecasts/risk?stationId=s2', 'dispatcher')).json<RiskResponse>().stations[0]!;
    expect(s2.apartments.every((a) => a.status === 'insufficient_data')).toBe(true);
    expect((await t.req('GET', '/api/v1/forecasts/risk?stationId=s1', 'resident1')).statusCode).toBe(403);
    expect((await t.req('GET', '/api/v1/forecasts/risk?stationId=nope', 'dispatcher')).statusCode).toBe(404);
  });

  it('proposes curve advice that an engineer approves once; others may not decide', async () => {
    expect((await t.req('POST', '/api/v1/forecasts/advice', 'dispatcher', { stationId: 's1' })).statusCode).toBe(403);
    const res = await t.req('POST', '/api/v1/forecasts/advice', 'engineer', { stationId: 's1' });
    expect(res.statusCode).toBe(201);
    const a = res.json<AdviceRecord>();
    expect(a).toMatchObject({
      stationId: 's1',
      status: 'proposed',
      advice: { status: 'advice', apartments: 8, coldestShare: 0.1, targetC: 18.5 },
    });
    expect(Math.sign(a.advice.estimatedEnergyChangePct)).toBe(Math.sign(a.advice.offsetC));
    expect((await t.req('POST', `/api/v1/forecasts/advice/${encodeURIComponent(a.id)}/approve`, 'dispatcher')).statusCode).toBe(403);
    const ok = await t.req('POST', `/api/v1/forecasts/advice/${encodeURIComponent(a.id)}/approve`, 'engineer');
    expect(ok.json<AdviceRecord>()).toMatchObject({ status: 'approved', decidedBy: 'engineer', decidedAt: T0 });
    expect((await t.req('POST', `/api/v1/forecasts/advice/${encodeURIComponent(a.id)}/dismiss`, 'engineer')).statusCode).toBe(409);
    const list = (await t.req('GET', '/api/v1/forecasts/advice?stationId=s1', 'dispatcher')).json<AdviceRecord[]>();
    expect(list.map((x) => x.status)).toEqual(['approved']);
  });

  it('lists the balancing diagnosis with evidence', async () => {
    const res = await t.req('GET', '/api/v1/forecasts/balance?stationId=s1', 'engineer');
    expect(res.statusCode).toBe(200);
    const d = res.json<{ monitored: number; items: { kind: string; evidence: Record<string, number> }[] }>();
    expect(d.monitored).toBe(8);
    // One cold flat is an in-home matter, not a valve: nothing of the network is listed.
    expect(d.items).toEqual([]);
  });
});
