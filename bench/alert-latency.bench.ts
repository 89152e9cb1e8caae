/**
 * End-to-end alert latency (issue 9): from publishing the reading that completes a cold
 * condition to the socket.io `incident` event reaching a dashboard client, through the real
 * path — MQTT publisher → broker → ingest (spool, influxd write, rules) → MQTT → API (order)
 * → socket.io — with every service in its own process (tests/harness/services.ts) and a real
 * influxd. Measured under a background load of 10,000 readings/s (quick: 3,000/s), and
 * without load as the baseline. Target (issue 9): p99 ≤ 500 ms under load.
 *
 * The N2 condition needs 60 min of event time below 18 °C: each sample publishes a backlog
 * (timestamps in the past, one reading a minute, 58 minutes long) for an apartment's sensors,
 * waits until it is processed, then times one final reading that makes it 60 minutes.
 */
import { io, type Socket } from 'socket.io-client';
import type { MqttClient } from 'mqtt';
import { MINUTE_MS } from '../domain/clock.ts';
import { defaultPolicy } from '../domain/policy.ts';
import { generateCity } from '../simulators/city.generator.ts';
import { startInfluxd } from '../tests/harness/influxd.ts';
import { connectPublisher, publishAcked, TelemetryLoad } from '../tests/harness/load.ts';
import { login } from '../tests/harness/platform.ts';
import { waitFor } from '../tests/harness/ports.ts';
import { startCluster } from '../tests/harness/services.ts';
import type { BenchOptions, BenchRow } from './types.ts';

const COLD_C = 16.5; // below the N2 standard

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

interface Apt {
  readonly id: string;
  readonly sensors: readonly string[];
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const rate = opts.quick ? 3000 : 10_000;
  const samples = opts.quick ? 8 : 30;
  const openAfterMin = defaultPolicy.comfort.coldOpenAfterMin; // N2

  // 3 stations, every apartment monitored; sample apartments spread over buildings so no
  // building or station group forms (§E: 30 % shares).
  const gen = generateCity({ seed: 4711, stations: 3, buildingsPerStation: 8, maxFloors: 6, sensorShare: 1, gatewayShare: 0 });
  const counted = new Set<string>(defaultPolicy.comfort.countedRoomTypes); // N32
  const roomApt = new Map(gen.city.rooms.filter((r) => counted.has(r.type)).map((r) => [r.id, r.apartmentId]));
  const sensorsOf = new Map<string, string[]>();
  for (const d of gen.city.devices) {
    const a = d.kind === 'room_sensor' && d.roomId ? roomApt.get(d.roomId) : undefined;
    if (a) sensorsOf.set(a, [...(sensorsOf.get(a) ?? []), d.id]);
  }
  const byBuilding = new Map<string, Apt[]>();
  for (const a of gen.city.apartments) {
    const s = sensorsOf.get(a.id);
    if (s?.length) byBuilding.set(a.buildingId, [...(byBuilding.get(a.buildingId) ?? []), { id: a.id, sensors: s }]);
  }
  const pool: Apt[] = [];
  for (let i = 0; pool.length < samples * 2 + 2; i++) {
    let added = false;
    for (const list of byBuilding.values()) {
      if (list[i] && pool.length < samples * 2 + 2) {
        pool.push(list[i]!);
        added = true;
      }
    }
    if (!added) break;
  }
  const coldSensors = new Set(pool.flatMap((a) => a.sensors));
  const loadDevices = gen.city.devices.filter((d) => d.kind === 'room_sensor' && !coldSensors.has(d.id)).map((d) => d.id);
  opts.log(`city: ${gen.city.apartments.length} apartments, ${loadDevices.length} load sensors, ${pool.length} sample apartments`);

  const influx = await startInfluxd();
  const cluster = await startCluster({ city: gen, influxUrl: influx.url });
  let socket: Socket | undefined;
  let pub: MqttClient | undefined;
  let load: TelemetryLoad | undefined;
  try {
    const token = await login(cluster.httpUrl, 'dispatcher', 'heatwatch-demo');
    const arrivals = new Map<string, number>();
    socket = io(cluster.httpUrl, { auth: { token }, transports: ['websocket'] });
    socket.on('incident', (e: { type: string; incident: { kind: string; apartmentId?: string } }) => {
      if (e.type === 'opened' && e.incident.kind === 'apartment_cold' && e.incident.apartmentId && !arrivals.has(e.incident.apartmentId)) {
        arrivals.set(e.incident.apartmentId, performance.now());
      }
    });
    const s = socket;
    await waitFor(() => s.connected, { timeoutMs: 20_000, what: 'socket connected' });
    pub = await connectPublisher(cluster.mqttUrl, cluster.serviceSecrets['svc-sim'], 'alert-bench');
    const p = pub;

    let next = 0;
    /** One sample: backlog (58 min cold), processed; then the timed reading that completes 60 min. */
    const sample = async (): Promise<number> => {
      const apt = pool[next++]!;
      const now = Date.now();
      const start = now - openAfterMin * MINUTE_MS;
      await Promise.all(
        apt.sensors.map((sid) => {
          const backlog = [];
          for (let m = 0; m <= openAfterMin - 2; m++) backlog.push({ ts: start + m * MINUTE_MS, temp: COLD_C });
          return publishAcked(p, `heat/v1/devices/${sid}/telemetry`, JSON.stringify(backlog));
        }),
      );
      // Let the backlog through the ingest first (it carries no alert on its own).
      await new Promise((r) => setTimeout(r, 600));
      const t0 = performance.now();
      await publishAcked(
        p,
        `heat/v1/devices/${apt.sensors[0]!}/telemetry`,
        JSON.stringify({ ts: start + openAfterMin * MINUTE_MS, temp: COLD_C }),
      );
      const at = await waitFor(() => arrivals.get(apt.id), { timeoutMs: 30_000, intervalMs: 2, what: `incident for ${apt.id}` });
      return at - t0;
    };

    const measure = async (label: string): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < samples; i++) out.push(await sample());
      opts.log(
        `${label}: p50 ${percentile(out, 50).toFixed(1)} ms, p99 ${percentile(out, 99).toFixed(1)} ms, max ${Math.max(...out).toFixed(1)} ms (${out.length} samples)`,
      );
      return out;
    };

    await sample(); // warm-up: first incident, first order, JIT
    const idle = await measure('no load');

    load = new TelemetryLoad({
      mqttUrl: cluster.mqttUrl,
      secret: cluster.serviceSecrets['svc-sim'],
      devices: loadDevices,
      readingsPerSec: rate,
      readingsPerMessage: 100,
      clients: 4,
      name: 'alert-bg',
    });
    await load.connect();
    load.start();
    const t0 = performance.now();
    const acked0 = load.acked;
    await new Promise((r) => setTimeout(r, 3000)); // settle at the rate
    const loaded = await measure(`under ${rate.toLocaleString('en-US')} readings/s`);
    const achieved = ((load.acked - acked0) / (performance.now() - t0)) * 1000;
    opts.log(`background load achieved ${Math.round(achieved)} readings/s acknowledged`);

    const bg = `${rate.toLocaleString('en-US')} readings/s`;
    return [
      {
        name: `alert latency p50 (bg ${bg})`,
        value: percentile(loaded, 50),
        unit: 'ms',
        baseline: { name: 'no load p50', value: percentile(idle, 50) },
      },
      {
        name: `alert latency p99 (bg ${bg})`,
        value: percentile(loaded, 99),
        unit: 'ms',
        baseline: { name: 'no load p99', value: percentile(idle, 99) },
        target: { kind: 'max', value: 500 },
        note: `${samples} samples each; reading published → socket.io incident received`,
      },
      { name: 'alert bench: background load achieved', value: achieved, unit: 'readings/s', target: { kind: 'min', value: rate * 0.9 } },
    ];
  } finally {
    socket?.close();
    await load?.close();
    await pub?.endAsync(true).catch(() => undefined);
    await cluster.stop();
    await influx.stop();
  }
}
