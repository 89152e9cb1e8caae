/**
 * The demo stack publishes its own weather as a forecast (issue #20), seen as an outsider sees
 * it: `npm start`'s platform (startPlatform with the demo day on a fresh data dir, its morning
 * pre-rolled) is asked over the public REST API only. The simulator's weather service publishes
 * over MQTT from its service account; the API validates and stores it; a dispatcher reads the
 * newest forecast (issued this hour, a day and more ahead, its stated spread growing with lead
 * time) and the tomorrow view is computed on it. A device cannot publish one (the broker's ACL).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../domain/clock.ts';
import type { RiskResponse } from '../domain/forecast/forecast.api.schema.ts';
import { topics } from '../domain/topics.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { waitFor } from './harness/ports.ts';

const run = promisify(execFile);
let p: TestPlatform;
let token: string;
type Stored = { city: string; issuedAt: number; source?: string; hours: { ts: number; outdoorTemp: number; spreadC?: number }[] };

const get = async <T>(path: string): Promise<{ status: number; json: T }> => {
  const r = await fetch(`${p.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, json: (await r.json()) as T };
};

beforeAll(async () => {
  p = await startTestPlatform({}); // DEMO=1, the demo day: exactly what `npm start` runs
  token = await login(p.httpUrl, 'dispatcher', 'heatwatch-demo');
}, 300_000);

afterAll(async () => {
  await p?.stop();
});

describe('the demo weather forecast', () => {
  it('is published over MQTT by the simulator, stored, and served to a dispatcher over REST', async () => {
    const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const f = await waitFor(
      async () => {
        const r = await get<Stored>('/api/v1/forecasts/latest');
        return r.status === 200 && r.json.issuedAt >= hour ? r.json : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: "this hour's demo forecast stored" },
    );
    expect(f).toMatchObject({ city: 'beijing', source: 'simulator', issuedAt: hour });
    // 48 h ahead on whole hours: tomorrow is covered whole.
    expect(f.hours).toHaveLength(49);
    f.hours.forEach((h, k) => expect(h.ts).toBe(hour + k * HOUR_MS));
    // Realistic error: the stated spread grows with lead time (≈0.3 °C at issue, 2–3 °C a day ahead).
    const spread = f.hours.map((h) => h.spreadC!);
    for (let k = 1; k < spread.length; k++) expect(spread[k]!).toBeGreaterThan(spread[k - 1]!);
    expect(spread[0]!).toBeLessThan(0.5);
    expect(spread[24]!).toBeGreaterThan(1.5);
    expect(spread[24]!).toBeLessThan(3.5);
    // The weather it forecasts is the city's: within a few degrees of the station meters' outdoor reading now.
    const meter = p.registry.city().devices.find((d) => d.kind === 'station_meter')!;
    const m = await get<{ history?: { ts: number; value: number | null }[] }>(
      `/api/v1/measurements?deviceId=${meter.id}&field=outdoorTemp&from=${hour - HOUR_MS}&to=${Date.now() + 60_000}`,
    );
    const observed = (m.json.history ?? []).filter((x) => x.value !== null).at(-1)?.value;
    expect(observed).toBeTypeOf('number');
    expect(Math.abs(f.hours[0]!.outdoorTemp - observed!)).toBeLessThan(3);
  });

  it("is what the dispatcher's tomorrow view is computed on", async () => {
    const r = await get<RiskResponse>('/api/v1/forecasts/risk');
    expect(r.status).toBe(200);
    expect(r.json.stations.length).toBeGreaterThan(0);
    const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    for (const s of r.json.stations) expect(s.forecastIssuedAt).toBeGreaterThanOrEqual(hour - HOUR_MS);
  });

  it('cannot be replaced by a device (the broker refuses a device on the platform topic)', async () => {
    const before = await get<Stored>('/api/v1/forecasts/latest');
    const device = p.registry.city().devices.find((d) => d.kind === 'room_sensor')!;
    const fake = JSON.stringify({ ...before.json, issuedAt: new Date().toISOString(), source: 'not-the-weather-service' });
    await run(
      'mosquitto_pub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(p.ports.mqtt),
        '-V',
        'mqttv311',
        '-q',
        '1',
        '-i',
        device.id,
        '-u',
        device.id,
        '-P',
        p.deviceSecrets.get(device.id)!,
        '-t',
        topics.forecast,
        '-m',
        fake,
      ],
      { timeout: 15_000 },
    ).catch(() => undefined); // MQTT 3.1.1 has no PUBACK error: the broker disconnects the device
    await new Promise((r) => setTimeout(r, 500));
    const after = await get<Stored>('/api/v1/forecasts/latest');
    expect(after.json.source).toBe('simulator');
  });
});
