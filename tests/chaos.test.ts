/**
 * Issue 9, chaos suite: the platform as separate processes (broker, ingest, API) with a real
 * influxd, under a continuous simulated load (MQTT.js publishers, QoS 1, every PUBACK
 * counted). In turn: SIGKILL and restart the broker, the ingest, influxd and the API; pause
 * influxd (SIGSTOP) for 60 s while the ingest spool fills to its bound. After each:
 *  - no reading lost and none doubled: every acknowledged reading (by device and ts) is waited
 *    for in influxd with a generous deadline, so a stall on a busy machine is told from a
 *    loss. A background poller stamps when each one arrived; per step the suite prints how
 *    late they were (PUBACK → stored, p50/p99/max, and those later than 10 s); one that never
 *    arrives fails the step naming the last stage that had it (spool mode: the spool file
 *    before or after its committed marker, the ingest, the store; MQTT mode: the broker
 *    journal, the ingest's spool, the store — tests/chaos/ledger.ts). Then points in influxd
 *    == readings acknowledged, exactly;
 *  - an apartment driven cold around the fault has exactly one apartment_cold incident and
 *    exactly one service order for it (the rules' incident ids are deterministic, the API
 *    applies an incident id once);
 *  - the dashboard's socket.io client reconnects after the API restart and receives live
 *    readings again; what happened while it was away is served over REST.
 * The steps run in order and share one platform: each leaves it healthy for the next.
 * `npm run test:chaos [-- --contention] [-- --runs N]` repeats it (tests/chaos/run.ts).
 */
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE_MS } from '../domain/clock.ts';
import { defaultPolicy } from '../domain/policy.ts';
import type { City } from '../domain/topology.schema.ts';
import { SpoolRepository } from '../ingest/spool.repository.ts';
import { generateCity } from '../simulators/city.generator.ts';
import { IncidentWatch } from './chaos/incident-watch.ts';
import { ArrivalLedger, formatReport, summarize } from './chaos/ledger.ts';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.ts';
import { connectPublisher, publishAcked, TelemetryLoad } from './harness/load.ts';
import { login } from './harness/platform.ts';
import { waitFor } from './harness/ports.ts';
import { startCluster, type Cluster } from './harness/services.ts';

/** Spool bound for the SIGSTOP step: ~10 s of the load, so the stall fills it and then some. */
const SPOOL_MAX = 2000;
/**
 * INGEST_FEED of the broker and the ingest (CHAOS_FEED=mqtt for the MQTT path): in spool mode
 * the broker writes the spool and enforces its bound (publishes wait for their PUBACK at it);
 * in MQTT mode the ingest does, and the broker's session queue holds the rest.
 */
const FEED = process.env.CHAOS_FEED === 'mqtt' ? 'mqtt' : 'spool';
/** Modest load (the chaos suite checks correctness, the bench measures speed). */
const RATE = 200;
/**
 * Publisher connections for the load's 60 devices. Not 2: after a reconnect MQTT.js resends its
 * stored QoS 1 messages one at a time, each after the previous one's PUBACK. In spool mode a
 * stall longer than 1.5 × keepalive (the influxd pause: PUBACKs withheld at the spool bound,
 * and aedes reads no PINGREQ behind a parked publish) drops every publisher; two connections
 * holding 60 devices' backlog (~6,000 messages each) then drained at one message per spool
 * commit per connection: ~200 msg/s on a quiet machine and under 100 under contention, so
 * 10,178 readings were still unacknowledged 120 s after influxd resumed (issue 17, run 1
 * under contention; nothing was lost). A fleet has a connection per device; 20 keeps the
 * replay from being bound by one round trip while still sharing connections.
 */
const PUBLISHERS = 20;
/** The influxd pause. */
const PAUSE_MS = 60_000;
/**
 * Issue 17: how long a step waits for its acknowledged readings after the drain (a loaded
 * machine drains slowly: a stall is not a loss), and what a step's timeout is made of: a
 * service restart (services.ts allows 240 s for a cold start on a loaded machine), the
 * publishers' drain, this deadline and the incident/order checks (the same deadline + 30 s).
 */
const SETTLE_DEADLINE_MS = 180_000;
const DRAIN_MS = 120_000;
const RESTART_MS = 240_000;
const CHECKS_MS = SETTLE_DEADLINE_MS + 30_000;
const STEP_MS = RESTART_MS + DRAIN_MS + SETTLE_DEADLINE_MS + CHECKS_MS + 30_000;

const COLD_C = 16.5; // below the N2 standard
const policy = defaultPolicy;

let influx: InfluxdHandle;
let cluster: Cluster;
let load: TelemetryLoad;
let coldPublisher: MqttClient;
const incidentWatch = new IncidentWatch();
let token: string;
let socket: Socket;
let city: City;
/** Apartments to drive cold, one per step, each in its own building (no building group, §E). */
let coldApartments: { id: string; sensors: string[] }[] = [];
let ledger: ArrivalLedger;
const socketLog = { connects: 0, readings: 0, incidents: [] as string[] };

/** Points in influxd (to check none doubled: each acknowledged reading once). */
const influxPoints = async (): Promise<number> => {
  const j = (await influx.query('SELECT COUNT("temp") FROM "raw"."room"', 'heat')) as {
    results: { series?: { values: [string, number][] }[] }[];
  };
  return j.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
};

const api = async <T>(path: string): Promise<T> => {
  const r = await fetch(`${cluster.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
};

/** Messages in the ingest's spool not yet in the store (it also keeps stored ones until a rules snapshot). */
const spoolBacklog = (dataDir: string): number => SpoolRepository.pending(dataDir);

/**
 * Drive an apartment cold: each of its sensors sends one backlog message (a JSON array, one
 * reading a minute) covering N2's full duration below the standard, ending now. The last
 * reading completes the condition, so the incident opens when the ingest processes it.
 */
function driveCold(apt: { id: string; sensors: string[] }): Promise<void[]> {
  const openAfter = policy.comfort.coldOpenAfterMin; // N2
  const end = Date.now() - 1000;
  return Promise.all(
    apt.sensors.map((s) => {
      const readings: { ts: number; temp: number }[] = [];
      for (let m = openAfter + 2; m >= 0; m--) readings.push({ ts: end - m * MINUTE_MS, temp: COLD_C });
      return publishAcked(coldPublisher, `heat/v1/devices/${s}/telemetry`, JSON.stringify(readings)).then(() => {
        const at = performance.now();
        for (const r of readings) ledger.ack(s, r.ts, at);
      });
    }),
  );
}

interface IncidentJson {
  id: string;
  kind: string;
  status: string;
}
interface OrderJson {
  id: string;
  incidentIds: string[];
}

/**
 * After a step: the load drained, then every acknowledged reading waited for in influxd with
 * a generous deadline (a stall is not a loss) and the step's lateness printed; one that never
 * came fails the step naming the last stage that had it. Then none doubled: influxd holds
 * exactly the acknowledged readings (a resend overwrites itself).
 */
async function expectNoReadingLost(step: string): Promise<void> {
  const drainFrom = performance.now();
  await load.drain(DRAIN_MS);
  expect(load.errors).toBe(0);
  const report = await ledger.settle(step, SETTLE_DEADLINE_MS, performance.now() - drainFrom);
  console.log(formatReport(report, report.missing.length));
  if (report.missing.length) {
    const lines = summarize(report.missing).map((g) => `  ${g.count} last in ${g.stage}, e.g. ${g.examples.join(', ')}`);
    throw new Error(
      `${step}: ${report.missing.length} acknowledged readings never reached influxd within ${SETTLE_DEADLINE_MS / 1000} s:\n${lines.join('\n')}` +
        `\n--- broker log ---\n${cluster.broker.log().slice(-3000)}\n--- ingest log ---\n${cluster.ingest.log().slice(-6000)}`,
    );
  }
  expect(await influxPoints()).toBe(ledger.acked);
}

/** Exactly one apartment_cold incident for the apartment and exactly one order that holds it. */
async function expectOneIncidentAndOrder(aptId: string, step: string): Promise<void> {
  const t0 = performance.now();
  const incidents = await waitFor(
    async () => {
      const l = await api<IncidentJson[]>(`/api/v1/incidents?apartmentId=${aptId}&kind=apartment_cold`);
      return l.length ? l : undefined;
    },
    // As generous as the readings' deadline: an incident that comes late is a stall, not a loss.
    { timeoutMs: SETTLE_DEADLINE_MS, intervalMs: 250, what: `incident for ${aptId}` },
  ).catch(async (e: unknown) => {
    // What the services said (warn and above) and every incident the API holds (was it raised
    // under another subject or kind?) are the first things to read on a failure here.
    const all = await api<(IncidentJson & Record<string, unknown>)[]>('/api/v1/incidents').catch(() => []);
    const held = all.map((i) => `${i.id} ${i.kind} ${i.status} parent=${JSON.stringify(i.parentId ?? null)}`).join('\n');
    throw new Error(
      `${String(e)}\n${incidentWatch.about(aptId, t0)}\n--- incidents in the API ---\n${held}\n--- ingest log ---\n${cluster.ingest.log().slice(-6000)}\n--- api log ---\n${cluster.api.log().slice(-3000)}`,
    );
  });
  const incidentMs = Math.round(performance.now() - t0);
  expect(incidents).toHaveLength(1);
  expect(incidents[0]!.status).toBe('open');
  const orders = await waitFor(
    async () => {
      const l = (await api<OrderJson[]>(`/api/v1/orders?apartmentId=${aptId}`)).filter((o) => o.incidentIds.includes(incidents[0]!.id));
      return l.length ? l : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: `order for ${aptId}` },
  );
  expect(orders).toHaveLength(1);
  console.log(
    `chaos ${step}: the cold apartment's incident in the API ${incidentMs} ms after its readings were stored, its order ${Math.round(performance.now() - t0)} ms; ${incidentWatch.seen.filter((i) => i.subjectId === aptId).length} incident messages for it on the broker`,
  );
}

beforeAll(async () => {
  const gen = generateCity({ seed: 909, stations: 1, buildingsPerStation: 6, maxFloors: 6, sensorShare: 1, gatewayShare: 0 });
  city = gen.city;
  influx = await startInfluxd();
  // CHAOS_LOG_LEVEL=debug: the broker's and the ingest's logs (its metrics every 10 s) in a failure's message.
  const logs: Record<string, string> = process.env.CHAOS_LOG_LEVEL ? { LOG_LEVEL: process.env.CHAOS_LOG_LEVEL } : {};
  const env = { INGEST_SPOOL_MAX: String(SPOOL_MAX), INGEST_FEED: FEED, ...logs };
  cluster = await startCluster({ city: gen, influxUrl: influx.url, env: { ingest: env, broker: env } });
  ledger = new ArrivalLedger({
    influx: () => influx,
    feed: FEED,
    dataDir: cluster.dataDir,
    brokerDir: join(cluster.dataDir, 'broker'),
    ingestClientId: 'svc-ingest',
  });
  ledger.start();

  // Sensors by apartment (counted rooms only, N32); cold apartments come from distinct buildings.
  const counted = new Set<string>(policy.comfort.countedRoomTypes);
  const roomApt = new Map(city.rooms.filter((r) => counted.has(r.type)).map((r) => [r.id, r.apartmentId]));
  const sensorsOf = new Map<string, string[]>();
  for (const d of city.devices) {
    const apt = d.kind === 'room_sensor' && d.roomId ? roomApt.get(d.roomId) : undefined;
    if (apt) sensorsOf.set(apt, [...(sensorsOf.get(apt) ?? []), d.id]);
  }
  const seenBuildings = new Set<string>();
  for (const a of city.apartments) {
    const sensors = sensorsOf.get(a.id);
    if (!sensors?.length || seenBuildings.has(a.buildingId)) continue;
    seenBuildings.add(a.buildingId);
    coldApartments.push({ id: a.id, sensors });
  }
  coldApartments = coldApartments.slice(0, 5);
  expect(coldApartments).toHaveLength(5);
  const coldSensors = new Set(coldApartments.flatMap((a) => a.sensors));
  const loadDevices = city.devices
    .filter((d) => d.kind === 'room_sensor' && !coldSensors.has(d.id))
    .map((d) => d.id)
    .slice(0, 60);

  load = new TelemetryLoad({
    mqttUrl: cluster.mqttUrl,
    secret: cluster.serviceSecrets['svc-sim'],
    devices: loadDevices,
    readingsPerSec: RATE,
    clients: PUBLISHERS,
    name: 'chaos',
    onAcked: (device, ts, publishedAt) => {
      const at = performance.now();
      for (const t of ts) ledger.ack(device, t, at, publishedAt);
    },
  });
  await load.connect();
  coldPublisher = await connectPublisher(cluster.mqttUrl, cluster.serviceSecrets['svc-sim'], 'chaos-cold');
  await incidentWatch.connect(cluster.mqttUrl, cluster.serviceSecrets['svc-api']);

  token = await login(cluster.httpUrl, 'dispatcher', 'heatwatch-demo');
  socket = io(cluster.httpUrl, { auth: { token }, transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 1000 });
  socket.on('connect', () => socketLog.connects++);
  socket.on('readings', (batch: unknown[]) => {
    socketLog.readings += batch.length;
  });
  socket.on('incident', (e: { incident: { id: string } }) => socketLog.incidents.push(e.incident.id));
  await waitFor(() => socketLog.connects === 1, { what: 'socket connected' });
  ledger.beginStep('before any fault');
  load.start();
}, 300_000);

afterAll(async () => {
  socket?.close();
  await load?.close();
  await ledger?.stop();
  await coldPublisher?.endAsync(true).catch(() => undefined);
  await incidentWatch.close();
  influx?.resume();
  await cluster?.stop();
  await influx?.stop();
}, 60_000);

describe('chaos: under a continuous load', () => {
  it(
    'the load flows end to end before any fault (readings stored, live readings on the socket)',
    async () => {
      await waitFor(() => socketLog.readings > 0, { timeoutMs: 20_000, what: 'live readings on the socket' });
      await expectNoReadingLost('before any fault');
    },
    STEP_MS,
  );

  it(
    'SIGKILL and restart the broker: nothing lost or doubled, the cold apartment opens one incident and one order',
    async () => {
      load.start();
      ledger.beginStep('broker SIGKILL');
      const apt = coldApartments[0]!;
      const sent = driveCold(apt);
      await cluster.broker.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 1000)); // publishers keep queueing meanwhile
      await cluster.broker.start();
      await sent;
      await expectNoReadingLost('broker SIGKILL');
      await expectOneIncidentAndOrder(apt.id, 'broker SIGKILL');
    },
    STEP_MS,
  );

  it(
    'SIGKILL and restart the ingest: its spool and the broker session hand over everything once',
    async () => {
      load.start();
      ledger.beginStep('ingest SIGKILL');
      const apt = coldApartments[1]!;
      await driveCold(apt);
      await cluster.ingest.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 1000));
      await cluster.ingest.start();
      await expectNoReadingLost('ingest SIGKILL');
      await expectOneIncidentAndOrder(apt.id, 'ingest SIGKILL');
    },
    STEP_MS,
  );

  it(
    'SIGKILL and restart influxd: the ingest retries until the store acknowledges',
    async () => {
      load.start();
      ledger.beginStep('influxd SIGKILL');
      const apt = coldApartments[2]!;
      await influx.kill('SIGKILL');
      await driveCold(apt);
      await new Promise((r) => setTimeout(r, 1000));
      await influx.start();
      await expectNoReadingLost('influxd SIGKILL');
      await expectOneIncidentAndOrder(apt.id, 'influxd SIGKILL');
    },
    STEP_MS,
  );

  it(
    'SIGKILL and restart the API: incidents wait in its MQTT session; the socket reconnects and catches up',
    async () => {
      load.start();
      ledger.beginStep('API SIGKILL');
      const apt = coldApartments[3]!;
      await cluster.api.kill('SIGKILL');
      await waitFor(() => !socket.connected, { what: 'socket noticed the API is gone' });
      const connectsBefore = socketLog.connects;
      await driveCold(apt); // the incident opens while the API is down
      await new Promise((r) => setTimeout(r, 1000));
      await cluster.api.start();
      await waitFor(() => socketLog.connects > connectsBefore, { timeoutMs: 20_000, what: 'socket reconnected' });
      const readingsAfter = socketLog.readings;
      await waitFor(() => socketLog.readings > readingsAfter, { timeoutMs: 20_000, what: 'live readings after the API restart' });
      await expectNoReadingLost('API SIGKILL');
      // Catch-up: what the client missed is served by REST (the dashboard reloads on reconnect).
      await expectOneIncidentAndOrder(apt.id, 'API SIGKILL');
    },
    STEP_MS,
  );

  it(
    `SIGSTOP influxd for ${PAUSE_MS / 1000} s: the spool fills to its bound (${SPOOL_MAX}), the ingest stops acking, then everything lands once`,
    async () => {
      load.start();
      ledger.beginStep('influxd SIGSTOP');
      const apt = coldApartments[4]!;
      const publishedBefore = load.published;
      influx.pause();
      let maxBacklog = 0;
      const started = Date.now();
      let cold: Promise<void[]> | undefined;
      while (Date.now() - started < PAUSE_MS) {
        await new Promise((r) => setTimeout(r, 500));
        maxBacklog = Math.max(maxBacklog, spoolBacklog(cluster.dataDir));
        // MQTT mode: acknowledged by the broker, held in the ingest's session behind the full
        // spool. Spool mode: held by its publisher, unacknowledged, until the spool has room.
        if (!cold && Date.now() - started > PAUSE_MS / 2) cold = driveCold(apt);
      }
      const publishedDuringPause = load.published - publishedBefore;
      // The bound held: the spool reached it and never went past it, while the load went on
      // (the rest waited: MQTT mode in the broker's persistent session for the ingest, spool
      // mode at the publishers, which had no PUBACK for it yet).
      expect(publishedDuringPause).toBeGreaterThan(SPOOL_MAX * 2);
      expect(maxBacklog).toBe(SPOOL_MAX);
      influx.resume();
      await cold;
      await expectNoReadingLost('influxd SIGSTOP');
      await waitFor(() => spoolBacklog(cluster.dataDir) === 0, { timeoutMs: 30_000, what: 'spool drained' });
      await expectOneIncidentAndOrder(apt.id, 'influxd SIGSTOP');
      // Nothing doubled across all steps: one incident per cold apartment, no other cold incident.
      const all = await api<IncidentJson[]>('/api/v1/incidents?kind=apartment_cold');
      expect(all.map((i) => i.id.split(':')[1]).sort()).toEqual(coldApartments.map((a) => a.id).sort());
      const health = await fetch(`${cluster.httpUrl}/api/v1/health`);
      expect(health.status).toBe(200);
    },
    STEP_MS + PAUSE_MS,
  );
});
