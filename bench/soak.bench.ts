/**
 * Soak (issue 9): the whole platform (broker, ingest with rules, API with a live socket.io
 * client) in this process with a real influxd, at a steady load for 10 minutes (quick:
 * 60 s). Memory (RSS, V8 heap used) is sampled every second and event-loop delay with
 * perf_hooks.monitorEventLoopDelay; the last window is compared with the first one (the
 * first minute; quick: the first 10 s), after a short warm-up.
 *
 * Stated bounds: the last window's live heap (after a full GC) and mean RSS at most 1.25× the first
 * window's, its event-loop p99 at most 2× (the machine is shared; lag is noisy), and no
 * reading lost (influxd holds exactly the readings acknowledged to the publishers).
 * Running in-process is deliberate: heap and event-loop delay are only observable from inside
 * a process. The load generator shares the process; it is steady, so it adds a constant.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { io, type Socket } from 'socket.io-client';
import { generateCity } from '../simulators/city.generator.ts';
import { startInfluxd } from '../tests/harness/influxd.ts';
import { TelemetryLoad } from '../tests/harness/load.ts';
import { login, startTestPlatform } from '../tests/harness/platform.ts';
import { waitFor } from '../tests/harness/ports.ts';
import type { BenchOptions, BenchRow } from './types.ts';

interface Window {
  rssMb: number[];
  heapMb: number[];
  /** Heap used right after a full GC at the window's end: the live set, not GC timing. */
  liveHeapMb: number;
  lagP99Ms: number;
  lagMeanMs: number;
}

/**
 * A full GC on demand. Heap used sampled between collections measures when V8 last ran a
 * major GC (it grew 1.3–1.7× over 60 s with a flat live set); the heap after a full GC is
 * the live set, which is what a leak grows.
 */
function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const durationS = opts.quick ? 60 : 600;
  const windowS = opts.quick ? 10 : 60;
  const warmupS = opts.quick ? 8 : 30;
  const rate = opts.quick ? 2000 : 3000;

  const gen = generateCity({ seed: 515, stations: 2, buildingsPerStation: 6, maxFloors: 6, sensorShare: 1, gatewayShare: 0 });
  const devices = gen.city.devices.filter((d) => d.kind === 'room_sensor').map((d) => d.id);
  const influx = await startInfluxd();
  const p = await startTestPlatform({ influxUrl: influx.url, fleetSpeed: false, city: gen, apiTickIntervalMs: 60_000 });
  let socket: Socket | undefined;
  const load = new TelemetryLoad({
    mqttUrl: p.mqttUrl,
    secret: p.serviceSecrets['svc-sim'],
    devices,
    readingsPerSec: rate,
    readingsPerMessage: 20,
    clients: 2,
    name: 'soak',
  });
  try {
    const token = await login(p.httpUrl, 'dispatcher', 'heatwatch-demo');
    let socketReadings = 0;
    socket = io(p.httpUrl, { auth: { token }, transports: ['websocket'] });
    socket.on('readings', (b: unknown[]) => {
      socketReadings += b.length;
    });
    const s = socket;
    await waitFor(() => s.connected, { timeoutMs: 20_000, what: 'socket connected' });
    await load.connect();
    load.start();
    await new Promise((r) => setTimeout(r, warmupS * 1000));
    opts.log(`steady load ${rate} readings/s for ${durationS} s (${devices.length} sensors), windows of ${windowS} s`);

    const windows: Window[] = [];
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const t0 = Date.now();
    const gc = fullGc();
    let cur: Window = { rssMb: [], heapMb: [], liveHeapMb: 0, lagP99Ms: 0, lagMeanMs: 0 };
    let windowStart = Date.now();
    while (Date.now() - t0 < durationS * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      const m = process.memoryUsage();
      cur.rssMb.push(m.rss / 2 ** 20);
      cur.heapMb.push(m.heapUsed / 2 ** 20);
      // Windows by wall time (a lagging loop takes fewer samples, not a longer window).
      if (Date.now() - windowStart >= windowS * 1000) {
        windowStart = Date.now();
        cur.lagP99Ms = h.percentile(99) / 1e6;
        cur.lagMeanMs = h.mean / 1e6;
        // The collection's pause is not counted in the next window's loop lag (reset after it).
        gc();
        cur.liveHeapMb = process.memoryUsage().heapUsed / 2 ** 20;
        h.reset();
        windows.push(cur);
        opts.log(
          `window ${windows.length}: rss ${mean(cur.rssMb).toFixed(0)} MB, heap ${mean(cur.heapMb).toFixed(0)} MB (after full GC ${cur.liveHeapMb.toFixed(0)} MB), loop lag mean ${cur.lagMeanMs.toFixed(1)} ms p99 ${cur.lagP99Ms.toFixed(1)} ms`,
        );
        cur = { rssMb: [], heapMb: [], liveHeapMb: 0, lagP99Ms: 0, lagMeanMs: 0 };
      }
    }
    h.disable();
    const elapsedS = (Date.now() - t0) / 1000;
    await load.drain();
    // Every acknowledged reading in influxd, or the count has stopped moving for 5 s.
    let stored = -1;
    let stableSince = Date.now();
    await waitFor(
      async () => {
        const j = (await influx.query('SELECT COUNT("temp") FROM "raw"."room"', 'heat')) as {
          results: { series?: { values: [string, number][] }[] }[];
        };
        const n = j.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
        if (n !== stored) stableSince = Date.now();
        stored = n;
        return n >= load.acked || Date.now() - stableSince > 5000;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'influxd count settled' },
    ).catch(() => undefined);
    const first = windows[0]!;
    const last = windows[windows.length - 1]!;
    opts.log(`acknowledged ${load.acked} readings, influxd holds ${stored}; socket received ${socketReadings} live readings`);
    const w = `${windowS} s windows`;
    return [
      {
        name: `soak: live heap (after full GC), last vs first window (${durationS} s)`,
        value: last.liveHeapMb,
        unit: 'MB',
        baseline: { name: 'first window', value: first.liveHeapMb },
        target: { kind: 'ratioMax', value: 1.25 },
        note: w,
      },
      {
        name: `soak: heap used between GCs, last vs first window (${durationS} s)`,
        value: mean(last.heapMb),
        unit: 'MB',
        baseline: { name: 'first window', value: mean(first.heapMb) },
        note: `${w}; depends on when V8 collects`,
      },
      {
        name: `soak: RSS, last vs first window (${durationS} s)`,
        value: mean(last.rssMb),
        unit: 'MB',
        baseline: { name: 'first window', value: mean(first.rssMb) },
        target: { kind: 'ratioMax', value: 1.25 },
        note: w,
      },
      {
        name: 'soak: event-loop lag p99, last vs first window',
        value: last.lagP99Ms,
        unit: 'ms',
        baseline: { name: 'first window', value: first.lagP99Ms },
        target: { kind: 'ratioMax', value: 2 },
        note: w,
      },
      {
        name: 'soak: readings lost (acked − stored)',
        value: load.acked - stored,
        unit: 'readings',
        target: { kind: 'max', value: 0 },
        note: `${Math.round(load.acked / elapsedS)} readings/s acknowledged`,
      },
    ];
  } finally {
    socket?.close();
    await load.close();
    await p.stop();
    await influx.stop();
  }
}
