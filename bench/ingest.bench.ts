/**
 * Ingest bench (issue 4), all measured in the same run on the same machine:
 * 1. raw InfluxDB /write ceiling: the stream's readings as line protocol (same Point
 *    encoding, same 5,000-point batches the ingest writes) POSTed straight to influxd, one
 *    request at a time and `writeConcurrency` at a time (as the ingest writes), each into a
 *    fresh database (series creation is part of the cost), before and after the end-to-end
 *    runs; the ceiling is the best of these, so the ratio is conservative;
 * 2. end-to-end: simulated devices (this process) → broker (`broker/server.ts`, child
 *    process, on-disk persistence, as deployed) → ingest (`ingest/server.ts`, child process,
 *    durable spool with fdatasync) → influxd, over 100,000 distinct series (quick: 5,000),
 *    from first publish to last point stored, and publish→stored lag (p50/p99) from the live
 *    fan-out, which the ingest publishes right after each store write. Two device profiles:
 *    one reading per message (a live fleet), and 10 readings per message (devices that
 *    sample every 10 min and upload hourly, or send their backlog after an outage);
 *    The devices are bench/load.raw.ts (pre-encoded PUBLISH packets over raw sockets), so
 *    the publishing side costs little of the machine; a third run paces 1 reading/message
 *    at 5,000 readings/s for the lag at a city's burst rate rather than at saturation;
 *    Both feeds of the ingest run (INGEST_FEED): 'mqtt', the broker routing telemetry to the
 *    ingest's persistent session (the path before issue 19, kept for an ingest on another
 *    host), is the in-run "before"; 'spool', the default, the broker appending it to the spool
 *    the ingest reads, gives the main rows (BENCH_INGEST_FEEDS=spool runs only that);
 *    'redis' (issue 19's scale-out row): REDIS_URL, two broker processes sharing a throwaway
 *    redis-server, publishers split over both, one ingest on the MQTT feed, 1 reading/message;
 * 3. CPU time per point of each process in the end-to-end runs (publishers, broker, ingest,
 *    influxd), which shows where a 2-core machine's budget goes, and the platform's own
 *    share (broker + ingest, and + influxd) as rows, each beside the MQTT feed's figure;
 * 4. embedded store write throughput (SQLite, batches of 5,000);
 * 5. the spool's durable append (write + fdatasync per batch of 1,000) beside the same
 *    appends without fdatasync.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { withDeadline } from './deadline.ts';
import { DAY_MS } from '../domain/clock.ts';
import type { LiveReading } from '../domain/events.ts';
import { topics } from '../domain/topics.ts';
import { defaultIngestOptions } from '../ingest/app.ts';
import { FIX_SERVICE_SECRET, fixServiceSecret, fixtureReading, seedFixtureRegistry, sensorId } from '../ingest/testing.fixture.ts';
import { cpuSecs, e2eRows, pct, storageRows, streamReadings, type Feed } from './ingest.rows.ts';
import { rawPublish, type RawMessage } from './load.raw.ts';
import { startRedisServer } from './broker.harness.ts';
import { InfluxStore, toLine } from '../storage/readings/influx.store.ts';
import { startInfluxd, type InfluxdHandle } from '../tests/harness/influxd.ts';
import { freePort, waitFor } from '../tests/harness/ports.ts';
import { portOpen, serviceProcess, type ServiceProcess } from '../tests/harness/services.ts';
import type { BenchOptions, BenchRow } from './types.ts';

const BATCH = defaultIngestOptions.batchSize;
/** BENCH_PROFILE_DIR: the broker and ingest children write V8 CPU profiles there (bench/cpuprofile.summary.ts reads them). */
const profileArgs: string[] = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
const CONCURRENCY = defaultIngestOptions.writeConcurrency;

type RedisHandle = Awaited<ReturnType<typeof startRedisServer>>;

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  // BENCH_INGEST_SERIES: another series count (e.g. a profile of the load phase without the full run).
  const series = Number(process.env.BENCH_INGEST_SERIES) || (opts.quick ? 5_000 : 100_000);
  const profiles: { perMessage: number; perDevice: number; what: string; ratePerSec?: number }[] = [
    { perMessage: 1, perDevice: 2, what: '1 reading/message' },
    { perMessage: 10, perDevice: 10, what: '10 readings/message' },
  ];
  // Lag at a paced 5,000 readings/s (a city's burst: Beijing's 230k sensors at 10 min are ~400/s).
  const paced = { perMessage: 1, perDevice: opts.quick ? 4 : 1, what: '1 reading/message at 5,000 readings/s', ratePerSec: 5_000 };
  const dir = mkdtempSync(join(tmpdir(), 'ingest-bench-'));
  const rows: BenchRow[] = [];
  let influxd: InfluxdHandle | undefined;
  let broker: ServiceProcess | undefined;
  let brokerB: ServiceProcess | undefined;
  let redis: RedisHandle | undefined;
  let ingest: ServiceProcess | undefined;
  const registry = seedFixtureRegistry(dir, series);
  try {
    opts.log(`registry: ${series} room sensors`);
    influxd = await startInfluxd();
    const baseTs = Date.now() - 2 * DAY_MS;
    // The ceiling's stream: the larger profile's readings (same series, same batches).
    const readings = streamReadings(registry, series, Math.max(...profiles.map((p) => p.perDevice)), baseTs);
    registry.close();

    // 1. Raw /write ceiling, same encoding and batches, each run into a fresh database.
    let dbNo = 0;
    const ceilingRun = async (concurrency: number) => {
      const raw = await InfluxStore.open({ url: influxd!.url, db: `ceiling${dbNo++}` });
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < readings.length) {
            const i = next;
            next += BATCH;
            await raw.writeLines(
              readings
                .slice(i, i + BATCH)
                .map((r) => toLine(r)!)
                .join('\n'),
            );
          }
        }),
      );
      return readings.length / ((performance.now() - t0) / 1000);
    };
    const ceilings: number[] = [];
    const measureCeiling = async (when: string) => {
      for (const c of [1, CONCURRENCY]) {
        const r = await ceilingRun(c);
        ceilings.push(r);
        opts.log(`raw /write ceiling (${when}, ${c} at a time): ${Math.round(r)} points/s`);
      }
    };
    await measureCeiling('before');

    // 2./3. End to end through the broker and the ingest, each its own process, in both feeds
    // (INGEST_FEED): 'mqtt' — the broker routes telemetry to the ingest's persistent session
    // (the path before issue 19, and the one for an ingest on another host) — and 'spool', the
    // default — the broker appends it to the spool in DATA_DIR and the ingest reads the files.
    // 'redis' (REDIS_URL): a second broker process on mqttPortB shares sessions and routing
    // through a throwaway redis-server; half of the publisher connections go to it, the ingest
    // and the live subscriber stay on the first.
    const mqttPort = await freePort();
    const mqttPortB = await freePort();
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    let b!: ServiceProcess;
    let b2: ServiceProcess | undefined;
    const brokerOn = (port: number, feed: Feed, redisUrl: string) =>
      serviceProcess(
        'broker',
        {
          DATA_DIR: dir,
          MQTT_PORT: String(port),
          MQTT_WS_PORT: '0',
          HOST: '127.0.0.1',
          SERVICE_SECRET: FIX_SERVICE_SECRET,
          REDIS_URL: redisUrl,
          TLS_CERT_FILE: '',
          TLS_KEY_FILE: '',
          INGEST_FEED: feed === 'redis' ? 'mqtt' : feed,
        },
        () => portOpen(port),
        profileArgs,
      );
    const startBroker = async (feed: Feed) => {
      let redisUrl = '';
      if (feed === 'redis') {
        redis = await startRedisServer();
        redisUrl = redis.url;
      }
      b = brokerOn(mqttPort, feed, redisUrl);
      broker = b;
      await b.start();
      if (feed === 'redis') {
        b2 = brokerOn(mqttPortB, feed, redisUrl);
        brokerB = b2;
        await b2.start();
      }
    };
    const stopBrokers = async () => {
      await b.kill('SIGTERM');
      await b2?.kill('SIGTERM');
      broker = brokerB = b2 = undefined;
      await redis?.stop();
      redis = undefined;
    };

    const e2e = async (feed: Feed, db: string, perMessage: number, perDevice: number, ratePerSec?: number) => {
      const total = series * perDevice;
      // The ingest's client id is per run: a fresh persistent session for a fresh database.
      const clientId = `svc-ingest-${db}`;
      const ing = serviceProcess(
        'ingest',
        {
          DATA_DIR: dir,
          INFLUX_URL: influxd!.url,
          INFLUX_DB: db,
          MQTT_URL: url,
          SERVICE_SECRET: FIX_SERVICE_SECRET,
          INGEST_RULES: '0',
          INGEST_CLIENT_ID: clientId,
          INGEST_FEED: feed === 'redis' ? 'mqtt' : feed,
        },
        () => Promise.resolve(true),
        profileArgs,
      );
      ingest = ing;
      await ing.start();
      // Every awaited network step has a deadline naming the row and the stage (bench/deadline.ts):
      // a broker that never answers fails this row instead of holding the whole run; the
      // clients are closed however the row ends.
      const row = `${feed} row`;
      // The api-side subscriber: sees the live fan-out, and tells when the ingest is subscribed.
      const api = mqtt.connect(url, {
        clientId: `svc-api-bench-${db}`,
        username: 'svc-api',
        password: fixServiceSecret('svc-api'),
        protocolVersion: 4,
      });
      // The readiness probe's publisher (a device account, on broker A like the ingest).
      const probe = mqtt.connect(url, {
        clientId: `svc-sim-probe-${db}`,
        username: 'svc-sim',
        password: fixServiceSecret('svc-sim'),
        protocolVersion: 4,
      });
      try {
        const connected = (c: MqttClient) =>
          c.connected ||
          new Promise<void>((resolve, reject) =>
            c
              .once('connect', () => resolve())
              .once('error', (e) =>
                reject(new Error(`${row}: ${c.options.clientId} got no CONNACK from broker A (port ${mqttPort}): ${e.message}`)),
              ),
          );
        await withDeadline(Promise.all([connected(api), connected(probe)]), 30_000, `${row}: no CONNACK from broker A (port ${mqttPort})`);
        await withDeadline(api.subscribeAsync(topics.live, { qos: 0 }), 30_000, `${row}: no SUBACK for ${topics.live}`);
        // Lag: publish → the live fan-out, which the ingest sends right after each store write
        // with each device's newest reading of that write. Done when every device's last reading
        // has come back that way.
        // Message m carries readings k0 … k0+perMessage-1 of device m % series (round-robin, so
        // every series grows together, like a live fleet); its send time is kept by index.
        const perDeviceMsgs = Math.ceil(perDevice / perMessage);
        const messages: RawMessage[] = [];
        for (let m = 0; m < series * perDeviceMsgs; m++) {
          const i = m % series;
          const k0 = Math.floor(m / series) * perMessage;
          const batch = [];
          for (let k = k0; k < Math.min(k0 + perMessage, perDevice); k++) batch.push(fixtureReading(i, k, baseTs));
          messages.push({ topic: topics.telemetry(sensorId(i)), payload: JSON.stringify(perMessage === 1 ? batch[0] : batch) });
        }
        const sentAt = new Float64Array(messages.length).fill(Number.NaN);
        const msgOf = (deviceId: string, ts: number) =>
          Math.floor((ts - baseTs) / 60_000 / perMessage) * series + Number(deviceId.slice(4));
        const lags: number[] = [];
        const lastTs = baseTs + (perDevice - 1) * 60_000;
        const devicesDone = new Set<string>();
        let doneAt = 0;
        api.on('message', (_t, payload) => {
          const now = performance.now();
          for (const l of JSON.parse(payload.toString()) as LiveReading[]) {
            const s = l.ts >= baseTs ? sentAt[msgOf(l.deviceId, l.ts)] : undefined;
            if (s !== undefined && !Number.isNaN(s)) lags.push(now - s);
            if (l.ts === lastTs && !devicesDone.has(l.deviceId) && devicesDone.add(l.deviceId).size === series) doneAt = now;
          }
        });
        let probeStuck: Error | undefined;
        const store = await withDeadline(
          InfluxStore.open({ url: influxd!.url, db }),
          30_000,
          `${row}: influxd gave no answer creating ${db}`,
        );
        const count = (stage: string) =>
          withDeadline(store.count({ kind: 'room_sensor' }), 60_000, `${row}: influxd gave no COUNT answer (${stage})`);
        // Ready when a probe reading has gone all the way through: until the ingest has
        // subscribed, a probe reaches no one, so it is sent again. The broker PUBACKs a probe
        // whether or not anyone is subscribed, so a missing PUBACK fails the row at once.
        const probeMsg = JSON.stringify(fixtureReading(0, 0, baseTs - 60_000));
        await waitFor(
          async () => {
            await withDeadline(
              probe.publishAsync(topics.telemetry(sensorId(0)), probeMsg, { qos: 1 }),
              60_000,
              `${row}: ingest-ready probe got no PUBACK`,
            ).catch((e: unknown) => {
              probeStuck = e as Error;
            });
            if (probeStuck) return true;
            return (await count('ingest ready')) >= 1;
          },
          { timeoutMs: 180_000, intervalMs: 300, what: `${row}: ingest ready (probe reading stored)` },
        );
        if (probeStuck) throw probeStuck;
        const brokersCpu = () => cpuSecs(b.pid()) + (b2 ? cpuSecs(b2.pid()) : 0);
        const redisCpu = () => (redis ? cpuSecs(redis.pid) : 0);
        const cpu0 = {
          bench: process.cpuUsage(),
          broker: brokersCpu(),
          ingest: cpuSecs(ing.pid()),
          influxd: cpuSecs(influxd!.pid),
          redis: redisCpu(),
        };
        const start = performance.now();
        // Connection c carries devices i with i % 4 === c (series is a multiple of 4), so each
        // device's messages stay on one connection, in order; with two brokers, odd ones go to B.
        const clients = Array.from({ length: 4 }, (_, c) => ({
          clientId: `svc-sim-raw-${db}-${c}`,
          username: 'svc-sim',
          password: fixServiceSecret('svc-sim'),
          ...(b2 && c % 2 === 1 ? { port: mqttPortB } : {}),
        }));
        await rawPublish({
          port: mqttPort,
          clients,
          messages,
          window: 1000,
          ratePerSec,
          onSend: (m, at) => (sentAt[m] = at),
          what: `${row}: load`,
        });
        // influxd's own count confirms it afterwards (COUNT over all series is too slow to poll).
        await waitFor(() => doneAt > 0, {
          timeoutMs: 600_000,
          intervalMs: 20,
          what: `${row}: every device's last reading on the live fan-out`,
        });
        const end = doneAt;
        const bench = process.cpuUsage(cpu0.bench);
        const cpu = {
          publishers: (bench.user + bench.system) / 1e6,
          broker: brokersCpu() - cpu0.broker,
          ingest: cpuSecs(ing.pid()) - cpu0.ingest,
          influxd: cpuSecs(influxd!.pid) - cpu0.influxd,
          redis: redisCpu() - cpu0.redis,
        };
        await waitFor(async () => (await count('all points stored')) >= total + 1, {
          timeoutMs: 600_000,
          intervalMs: 500,
          what: `${row}: all points stored`,
        });
        const secs = (end - start) / 1000;
        await ing.kill('SIGTERM');
        ingest = undefined;
        const us = (k: keyof typeof cpu) => (cpu[k] * 1e6) / total;
        const cpuNote = `CPU µs/point: publishers ${us('publishers').toFixed(1)}, broker${b2 ? 's (both)' : ''} ${us('broker').toFixed(1)}, ingest ${us('ingest').toFixed(1)}, influxd ${us('influxd').toFixed(1)}${redis ? `, redis ${us('redis').toFixed(1)}` : ''}`;
        return {
          total,
          rate: total / secs,
          secs,
          p50: pct(lags, 50),
          p99: pct(lags, 99),
          cpuNote,
          brokerUs: us('broker'),
          ingestUs: us('ingest'),
          storeUs: us('influxd'),
          redisUs: redis ? us('redis') : undefined,
        };
      } finally {
        api.end(true);
        probe.end(true);
      }
    };

    // BENCH_INGEST_FEEDS=spool skips the MQTT-mode baseline (handy while tuning).
    // 'redis' runs the 1 reading/message profile only (the scale-out row).
    const feeds = (process.env.BENCH_INGEST_FEEDS ?? 'spool,mqtt,redis').split(',') as Feed[];
    const results: (Awaited<ReturnType<typeof e2e>> & (typeof profiles)[number] & { feed: Feed })[] = [];
    for (const feed of feeds) {
      await startBroker(feed);
      for (const p of feed === 'redis' ? profiles.slice(0, 1) : [...profiles, paced]) {
        try {
          const r = await e2e(feed, `heat${feed}${p.perMessage}${p.ratePerSec ? 'paced' : ''}`, p.perMessage, p.perDevice, p.ratePerSec);
          opts.log(
            `end-to-end (${feed}), ${p.what}: ${Math.round(r.rate)} points/s (${r.total} points in ${r.secs.toFixed(1)} s), lag p50 ${Math.round(r.p50)} ms p99 ${Math.round(r.p99)} ms; ${r.cpuNote}`,
          );
          results.push({ ...p, ...r, feed });
        } catch (e) {
          // The baseline failing must not take the deployed feed's rows with it (and the other way round).
          opts.log(`end-to-end (${feed}), ${p.what}: FAILED ${String(e)}`);
          const procs = { ingest, 'broker A': broker, 'broker B': brokerB };
          for (const [label, proc] of Object.entries(procs)) if (proc) opts.log(`  ${label} log: ${proc.log().slice(-1500)}`);
          await ingest?.kill('SIGKILL');
          ingest = undefined;
          if (feed === 'spool') throw e;
          // A failed row shows in the table (FAIL, reason under it) rather than going missing from it.
          rows.push({
            name: `ingest: end-to-end, ${feed === 'redis' ? 'REDIS_URL, 2 brokers + 1 ingest (MQTT feed)' : `${feed} feed`}, ${p.what}`,
            value: Number.NaN,
            unit: 'points/s',
            target: { kind: 'min', value: 15_000 },
            note: `FAILED: ${String(e).slice(0, 300)}`,
          });
        }
      }
      await stopBrokers();
    }
    await measureCeiling('after');
    const ceiling = Math.max(...ceilings);
    rows.push(...e2eRows(results, ceiling, series));

    // 4./5. Embedded store and spool append.
    rows.push(...(await storageRows(dir, readings, baseTs, opts)));
    return rows;
  } finally {
    await ingest?.kill('SIGKILL');
    await broker?.kill('SIGKILL');
    await brokerB?.kill('SIGKILL');
    await redis?.stop();
    await influxd?.stop();
    if (registry.db.open) registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
