/**
 * A utility brings its own city (issue 14, done-when 1). On an empty platform (DEMO=0), the
 * city is built through REST and CSV only; its devices are provisioned while the platform
 * runs; three hours of backdated readings are sent with Debian's mosquitto_pub, one process
 * per message, each device with its own credentials — once as one reading per publish in
 * event-time order across devices, once (on a second fresh platform) as per-device backlog
 * arrays. Both must give exactly the hand-written incidents and orders below, and nothing else.
 *
 * The city: station st-1 (metered), buildings b-a and b-b of six apartments (1br layout),
 * one living-room sensor each, two in b-a-302. From minute 30: b-a-101 cold while its
 * neighbours and the apartment above are warm (in-home); b-b-101 and b-b-201 cold (a riser:
 * 2 of 6 monitored ≥ buildingColdShare 0.3, a building group; 3 of 12 at the station < 0.3,
 * no station group). b-a-202's living room drops 7 °C at minute 70 and recovers at 110 (an
 * open window, §E.5: no incident); b-a-302's living-room sensor stops after minute 60 (dead).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../domain/incident.schema.ts';
import { topics } from '../domain/topics.ts';
import { login, startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { waitFor } from './harness/ports.ts';

const run = promisify(execFile);
const MIN = 60_000;
const STEPS = 18; // readings every 10 min over 3 h: minutes 0, 10, … 180
const APTS = ['101', '102', '201', '202', '301', '302'];
const SENSORS = [
  ...['b-a', 'b-b'].flatMap((b) => APTS.map((a) => ({ id: `rs-${b}-${a}`, room: `${b}-${a}-living` }))),
  { id: 'rs-b-a-302-bed', room: 'b-a-302-bed1' },
];
const METER = 'm-st-1';

function temp(sensor: string, m: number): number | undefined {
  if (sensor === 'rs-b-a-302' && m > 60) return undefined; // dead
  if (m >= 30 && ['rs-b-b-101', 'rs-b-b-201'].includes(sensor)) return 15.2;
  if (m >= 30 && sensor === 'rs-b-a-101') return 16.1;
  if (sensor === 'rs-b-a-202' && m >= 70 && m < 110) return 14; // window
  return 21;
}
const METER_FIELDS = {
  primarySupplyTemp: 100,
  primaryReturnTemp: 55,
  secondarySupplyTemp: 53,
  secondaryReturnTemp: 42,
  secondarySupplyPressure: 0.45,
  makeupFlow: 0.2,
  pumpHz: 40,
  valvePct: 60,
  outdoorTemp: 0,
};

const EXPECTED_INCIDENTS = [
  'apartment_cold b-a-101 open cause=in_home',
  'apartment_cold b-b-101 open cause=building parent=building_cold:b-b',
  'apartment_cold b-b-201 open cause=building parent=building_cold:b-b',
  'building_cold b-b open cause=building children=b-b-101,b-b-201',
  'sensor_offline rs-b-a-302 open cause=not_a_fault',
];
const EXPECTED_ORDERS = ['apartment b-a-101 apartments=b-a-101', 'building b-b apartments=b-b-101,b-b-201'];

const csv = async (base: string, token: string, kind: string, text: string) => {
  const r = await fetch(`${base}/api/v1/onboarding/import/${kind}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
    body: text,
  });
  if (r.status !== 201) throw new Error(`import ${kind}: ${r.status} ${await r.text()}`);
  return (await r.json()) as { secrets?: Record<string, string> };
};
const post = async (base: string, token: string, path: string, body: unknown) => {
  const r = await fetch(`${base}/api/v1/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as { secret?: string };
};

/** Build the city through the API only; provision the devices while the platform runs. Returns every device's secret. */
async function buildCity(p: TestPlatform, token: string): Promise<Map<string, string>> {
  const base = p.httpUrl;
  await post(base, token, 'offices', { id: 'off-1', name: 'Office 1' });
  await post(base, token, 'sources', { id: 'chp-1', name: 'CHP 1', location: { lat: 39.9, lon: 116.3 } });
  const st = await csv(
    base,
    token,
    'stations',
    'id,name,officeId,sourceId,branchId,lat,lon,system,meterId,meterIntervalMin\nst-1,Station 1,off-1,chp-1,br-1,39.91,116.31,radiator,m-st-1,10\n',
  );
  await csv(
    base,
    token,
    'buildings',
    'id,name,stationId,address,lat,lon,floors,entrances,unitsPerFloor\nb-a,A,st-1,1 A Road,39.91,116.31,3,1,2\nb-b,B,st-1,2 B Road,39.92,116.32,3,1,2\n',
  );
  const rows = ['b-a', 'b-b'].flatMap((b) => APTS.map((a) => `${b}-${a},${b},1,${a[0]},${Number(a.slice(1))},1-${a},55,1br`));
  await csv(base, token, 'apartments', `id,buildingId,entrance,floor,unit,number,areaM2,layout\n${rows.join('\n')}\n`);
  const secrets = new Map<string, string>([[METER, st.secrets![METER]!]]);
  for (const s of SENSORS)
    secrets.set(s.id, (await post(base, token, 'devices', { id: s.id, kind: 'room_sensor', roomId: s.room, intervalMin: 10 })).secret!);
  return secrets;
}

function pub(p: TestPlatform, secrets: Map<string, string>, device: string, payload: unknown) {
  return run('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(p.ports.mqtt),
    '-i',
    device,
    '-u',
    device,
    '-P',
    secrets.get(device)!,
    '-q',
    '1',
    '-t',
    topics.telemetry(device),
    '-m',
    JSON.stringify(payload),
  ]);
}

/** Every reading of one device, oldest first. */
function readingsOf(device: string, t0: number): Record<string, number>[] {
  const out: Record<string, number>[] = [];
  for (let k = 0; k <= STEPS; k++) {
    const m = k * 10;
    if (device === METER) out.push({ ts: t0 + m * MIN, ...METER_FIELDS });
    else {
      const t = temp(device, m);
      if (t !== undefined) out.push({ ts: t0 + m * MIN, temp: t, bat: 3 });
    }
  }
  return out;
}

async function state(p: TestPlatform, token: string): Promise<{ incidents: string[]; orders: string[]; raw: Incident[] }> {
  const h = { authorization: `Bearer ${token}` };
  const raw = (await (await fetch(`${p.httpUrl}/api/v1/incidents`, { headers: h })).json()) as Incident[];
  const incidents = raw
    .map(
      (i) =>
        `${i.kind} ${i.subjectId} ${i.status} cause=${i.cause}${i.parentId ? ` parent=${i.parentId.split(':').slice(0, 2).join(':')}` : ''}${i.children ? ` children=${[...i.children].sort().join(',')}` : ''}`,
    )
    .sort();
  const list = (await (await fetch(`${p.httpUrl}/api/v1/orders`, { headers: h })).json()) as {
    subjectType: string;
    apartmentId?: string;
    buildingId?: string;
    stationId?: string;
    apartments: string[];
    status: string;
  }[];
  const orders = list
    .filter((o) => o.status !== 'cancelled' && o.status !== 'closed')
    .map(
      (o) =>
        `${o.subjectType} ${o.subjectType === 'apartment' ? o.apartmentId : o.subjectType === 'building' ? o.buildingId : o.stationId} apartments=${[...o.apartments].sort().join(',')}`,
    )
    .sort();
  return { incidents, orders, raw };
}

let p: TestPlatform | undefined;
afterEach(async () => {
  await p?.stop();
  p = undefined;
});

async function scenario(deliver: (p: TestPlatform, secrets: Map<string, string>, t0: number) => Promise<void>, waitMs: number) {
  p = await startTestPlatform({ demo: false });
  expect(p.registry.isEmpty()).toBe(true);
  const token = await login(p.httpUrl, 'admin', 'admin-test-password');
  const secrets = await buildCity(p, token);
  const t0 = Date.now() - STEPS * 10 * MIN - MIN; // the last reading a minute ago
  await deliver(p, secrets, t0);
  const platform = p;
  const got = await waitFor(
    async () => {
      const s = await state(platform, token);
      return s.incidents.length >= EXPECTED_INCIDENTS.length && s.orders.length >= EXPECTED_ORDERS.length ? s : undefined;
    },
    { timeoutMs: waitMs, intervalMs: 1000, what: 'the expected incidents and orders' },
  ).catch(async (e: unknown) => {
    throw new Error(`${String(e)}; have ${JSON.stringify(await state(platform, token).then((s) => [s.incidents, s.orders]))}`);
  });
  // Settle: anything still in flight would show now.
  await new Promise((r) => setTimeout(r, 5000));
  const s = await state(p, token);
  expect(s.incidents).toEqual(EXPECTED_INCIDENTS);
  expect(s.orders).toEqual(EXPECTED_ORDERS);
  // A parent lists exactly the children that point to it.
  const group = s.raw.find((i) => i.kind === 'building_cold')!;
  expect(
    s.raw
      .filter((i) => i.parentId === group.id)
      .map((i) => i.subjectId)
      .sort(),
  ).toEqual([...group.children!].sort());
  // The dead sensor's incident starts at its last reading, however the data came.
  expect(s.raw.find((i) => i.kind === 'sensor_offline')!.startTs).toBe(t0 + 60 * MIN);
  return got;
}

describe('a city built through the API, driven by mosquitto_pub', () => {
  it('one reading per publish in event-time order across devices: exactly the expected incidents and orders', async () => {
    await scenario(async (p, secrets, t0) => {
      const devices = [METER, ...SENSORS.map((s) => s.id)];
      const byDevice = new Map(devices.map((d) => [d, readingsOf(d, t0)]));
      for (let k = 0; k <= STEPS; k++) {
        const ts = t0 + k * 10 * MIN;
        // One step's readings share their time: they go in parallel, the next step after.
        await Promise.all(
          devices.flatMap((d) =>
            byDevice
              .get(d)!
              .filter((r) => r.ts === ts)
              .map((r) => pub(p, secrets, d, r)),
          ),
        );
      }
    }, 60_000);
  }, 300_000);

  it('per-device backlog arrays: exactly the same', async () => {
    await scenario(async (p, secrets, t0) => {
      for (const d of [METER, ...SENSORS.map((s) => s.id)]) await pub(p, secrets, d, readingsOf(d, t0));
    }, 240_000); // a dead sensor in an array is known dead once the catch-up grace (2 min) has passed on the quiet clock
  }, 420_000);
});
