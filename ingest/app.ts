/**
 * The ingest: MQTT subscriber (persistent session) → durable spool → validation → store →
 * live fan-out and rules. Builds everything from its dependencies; server.ts listens.
 *
 * At-least-once, end to end (ARCHITECTURE.md "Durability"):
 *  1. A telemetry PUBLISH is appended to the spool; its PUBACK is held back until the spool
 *     transaction that holds it has committed (batched: many messages per fsync).
 *  2. Spooled messages are validated and written to the store in batches by size and age
 *     (`writeConcurrency` writes in flight), retried with backoff until the store acknowledges.
 *  3. Only then are they trimmed from the spool — with the rules engine on, only once a
 *     rules snapshot covers them and the incidents they raised are PUBACKed, so a crash
 *     between snapshots re-runs them through the restored engine. On restart the spool is
 *     drained first.
 *  4. When the spool holds `spoolMaxMessages`, the ingest stops reading from the broker
 *     (no more PUBACKs); the broker keeps the rest in the persistent session.
 * Redelivered duplicates are harmless: a point with the same device and timestamp overwrites
 * itself in both stores.
 */
import mqtt, { type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { PlatformConfig } from '../domain/config.ts';
import type { LiveReading } from '../domain/events.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { policyForCity, type HeatingPolicy } from '../domain/policy.ts';
import type { Reading } from '../domain/reading.ts';
import { parseTopic, topics } from '../domain/topics.ts';
import type { DeviceLocation } from '../domain/topology.schema.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import type { DeadLetterRepository, NewDeadLetter } from '../storage/readings/dead-letter.repository.ts';
import type { ReadingStore } from '../storage/readings/reading-store.ts';
import type { RulesPort } from './rules.port.ts';
import { SpoolRepository, type SpoolEntry, type SpoolSync } from './spool.repository.ts';
import { TelemetryValidator, type Rejection } from './telemetry.validator.ts';

export interface IngestOptions {
  /** Readings per store write. */
  readonly batchSize: number;
  /** A partial batch is written once its oldest message is this old, ms. */
  readonly batchAgeMs: number;
  /** Spool bound, messages: past it the ingest stops acking and the broker holds the rest. */
  readonly spoolMaxMessages: number;
  readonly spoolSync: SpoolSync;
  /** Store retry backoff, ms (doubles from min to max). */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** Store writes in flight at once (each up to batchSize readings). */
  readonly writeConcurrency: number;
  /** Readings per live fan-out message. */
  readonly liveChunk: number;
  /** Rules state snapshot period, ms (wall clock; also written on stop). */
  readonly snapshotEveryMs: number;
  /** Dead letters kept in records.db (newest). */
  readonly deadLettersKeep: number;
  /** Recompute downsampled hours made stale by late readings (a backlog), ms; 0 = never. */
  readonly downsampleFlushEveryMs: number;
  /** Compare raw and downsampled counts over the last `reconcileSpanMs` and repair, ms; 0 = never. */
  readonly reconcileEveryMs: number;
  readonly reconcileSpanMs: number;
  /** Rules watermark: how late a reading may arrive on a quiet stream before time-outs pass it, ms. */
  readonly watermarkLatenessMs: number;
  /** How often the rules watermark follows the clock when no reading arrives, ms. */
  readonly watermarkTickMs: number;
}

export const defaultIngestOptions: IngestOptions = Object.freeze({
  batchSize: 5000,
  batchAgeMs: 50,
  writeConcurrency: 2,
  spoolMaxMessages: 200_000,
  spoolSync: 'full',
  retryMinMs: 100,
  retryMaxMs: 1000,
  liveChunk: 1000,
  snapshotEveryMs: 60_000,
  deadLettersKeep: 100_000,
  downsampleFlushEveryMs: 60_000,
  reconcileEveryMs: 3_600_000,
  reconcileSpanMs: 2 * 24 * 3_600_000,
  watermarkLatenessMs: 30_000,
  watermarkTickMs: 5_000,
});

export interface IngestMetrics {
  readonly connected: boolean;
  /** Telemetry messages received (spooled). */
  readonly messages: number;
  readonly readingsStored: number;
  readonly rejectedTotal: number;
  readonly rejected: Readonly<Record<string, number>>;
  /** Messages spooled and not yet in the store. */
  readonly spoolBacklog: number;
  /** True while the spool is full and PUBACKs are withheld. */
  readonly backpressure: boolean;
  readonly storeWrites: number;
  readonly storeErrors: number;
  readonly lastStoreError?: string;
  readonly incidentsPublished: number;
  /** Readings older than the device's last reading handed to the rules (stored, not re-ordered). */
  readonly rulesLate: number;
  /** Spooled messages re-run through the rules at start (stored before a crash, after the last snapshot). */
  readonly rulesReplayed: number;
}

export interface IngestApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  metrics(): IngestMetrics;
}

export interface IngestDeps {
  readonly config: Pick<PlatformConfig, 'dataDir' | 'city'>;
  readonly registry: Pick<RegistryRepository, 'locate' | 'allLocations'> & Partial<Pick<RegistryRepository, 'topologyVersion'>>;
  readonly store: ReadingStore;
  readonly deadLetters: Pick<DeadLetterRepository, 'add' | 'prune'>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly mqtt: { readonly url: string; readonly clientId: string; readonly username: string; readonly password: string };
  readonly rules?: RulesPort;
  /** State kept beside the rules snapshot (per-device last event time), from a previous run. */
  readonly rulesLastTs?: Readonly<Record<string, number>>;
  readonly policy?: HeatingPolicy;
  readonly options?: Partial<IngestOptions>;
}

interface Work {
  readonly seq: number;
  readonly topic: string;
  readonly deviceId?: string;
  readonly at: number;
  readonly readings: Reading[];
  readonly rejections: Rejection[];
}

interface InFlight {
  readonly batch: Work[];
  readonly readings: Reading[];
  state: 'writing' | 'stored' | 'failed';
  refused: Reading[];
  /** Settles when the write ended (stored or failed). */
  done: Promise<void>;
}

interface Incoming {
  readonly topic: string;
  readonly payload: Buffer;
  readonly at: number;
  readonly messageId?: number;
}

/** File the ingest writes the rules state to (engine snapshot + per-device last event time). */
export const rulesSnapshotFile = (dataDir: string) => join(dataDir, 'rules-snapshot.json');

/** A stored reading as the live topic carries it (no office tag). */
function toLive(r: Reading): LiveReading {
  const l: Record<string, unknown> = { deviceId: r.deviceId, kind: r.kind, ts: r.ts, fields: r.fields };
  if (r.roomId) l.roomId = r.roomId;
  if (r.apartmentId) l.apartmentId = r.apartmentId;
  if (r.buildingId) l.buildingId = r.buildingId;
  if (r.stationId) l.stationId = r.stationId;
  return l as unknown as LiveReading;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createIngestApp(deps: IngestDeps): IngestApp {
  const o: IngestOptions = { ...defaultIngestOptions, ...deps.options };
  const log = deps.logger.child({ component: 'ingest' });
  const policy = deps.policy ?? policyForCity(deps.config.city);
  const validator = new TelemetryValidator(policy);
  const locations = new Map<string, DeviceLocation>();
  const rulesLastTs = new Map<string, number>(Object.entries(deps.rulesLastTs ?? {}));

  let spool: SpoolRepository | undefined;
  let client: MqttClient | undefined;
  let stopping = false;
  let connected = false;
  /** Connection generation: a PUBACK held from an older connection must never be sent. */
  let generation = 0;

  // Receive side: messages waiting for the next spool commit and their held PUBACKs.
  let incoming: Incoming[] = [];
  let unsyncedIds = new Set<number>();
  let heldAcks: { packet: Packet; generation: number }[] = [];
  let commitScheduled = false;
  /** handleMessage callbacks parked while the spool is full (the broker holds the rest). */
  let blocked: (() => void)[] = [];

  // Processing side.
  const queue: Work[] = [];
  let queuedReadings = 0;
  let spoolBacklog = 0;
  /** Store writes in flight, oldest first. */
  const inFlight: InFlight[] = [];
  let ageTimer: NodeJS.Timeout | undefined;
  let flushDue = false;
  let snapshotTimer: NodeJS.Timeout | undefined;
  const maintenanceTimers: NodeJS.Timeout[] = [];
  /** Last spool seq whose readings went through the rules, and the last one a snapshot covers. */
  let rulesSeq = 0;
  let snapshotSeq = 0;
  const incidentsInFlight = new Set<Promise<boolean>>();
  // Rules watermark (ARCHITECTURE.md "Time"): event time while readings flow; on a quiet
  // stream it moves on with the clock from the newest event time, less the allowed lateness.
  let watermark = Number.NEGATIVE_INFINITY;
  let maxEventTs = Math.max(Number.NEGATIVE_INFINITY, ...rulesLastTs.values());
  let lastArrival = deps.clock.now();
  let watermarkTimer: NodeJS.Timeout | undefined;
  // Live topology: the registry's change counter, checked before every rules batch and on the
  // watermark tick, plus the API's registry message for an immediate reload.
  let topologySeen = deps.registry.topologyVersion?.() ?? 0;

  const m = {
    messages: 0,
    readingsStored: 0,
    rejectedTotal: 0,
    rejected: {} as Record<string, number>,
    storeWrites: 0,
    storeErrors: 0,
    lastStoreError: undefined as string | undefined,
    incidentsPublished: 0,
    rulesLate: 0,
    rulesReplayed: 0,
  };

  /** Unknown devices are asked again after this long (a device provisioned without a registry event). */
  const UNKNOWN_RECHECK_MS = 30_000;
  const unknownSince = new Map<string, number>();
  const locate = (deviceId: string): DeviceLocation | undefined => {
    const l = locations.get(deviceId);
    if (l) return l;
    const since = unknownSince.get(deviceId);
    if (since !== undefined && deps.clock.now() - since < UNKNOWN_RECHECK_MS) return undefined;
    const found = deps.registry.locate(deviceId);
    if (found) {
      locations.set(deviceId, found);
      unknownSince.delete(deviceId);
    } else {
      unknownSince.set(deviceId, deps.clock.now());
    }
    return found;
  };
  /** All locations in one query: a per-device lookup costs ~80 µs, 8 s for 100,000 devices. */
  const loadLocations = () => {
    locations.clear();
    unknownSince.clear();
    for (const l of deps.registry.allLocations()) locations.set(l.deviceId, l);
  };

  const toWork = (e: SpoolEntry): Work => {
    const t = parseTopic(e.topic);
    if (t.type !== 'telemetry') return { seq: e.seq, topic: e.topic, at: e.at, readings: [], rejections: [{ reason: 'bad_topic', raw: e.payload }] };
    let v: ReturnType<TelemetryValidator['validate']>;
    try {
      v = validator.validate(e.payload, locate(t.deviceId), e.at, t.gatewayId);
    } catch (err) {
      // A payload that breaks the validator is rejected, never a crash: a crash would repeat
      // on every restart, since the message is still in the spool (a poison message).
      log.warn({ err: String(err), deviceId: t.deviceId }, 'validator failed on a payload');
      v = { readings: [], rejections: [{ reason: 'bad_shape', raw: e.payload, detail: 'validator error' }] };
    }
    return { seq: e.seq, topic: e.topic, deviceId: t.deviceId, at: e.at, readings: v.readings, rejections: v.rejections };
  };

  const enqueue = (entries: readonly SpoolEntry[]) => {
    for (const e of entries) {
      const w = toWork(e);
      queue.push(w);
      queuedReadings += w.readings.length;
    }
    spoolBacklog += entries.length;
    pump();
  };

  /**
   * Group commit: append what arrived since the last commit in one durable write, then
   * release its PUBACKs. While a write is syncing, new messages gather for the next one.
   */
  let committing: Promise<void> | undefined;
  let committingCount = 0;
  const commit = async (): Promise<void> => {
    commitScheduled = false;
    if (committing || !incoming.length || !spool) return;
    const batch = incoming;
    const ids = unsyncedIds;
    const acks = heldAcks;
    incoming = [];
    unsyncedIds = new Set();
    heldAcks = [];
    committingCount = batch.length;
    const s = spool;
    committing = (async () => {
      let entries: SpoolEntry[];
      try {
        entries = await s.append(batch.map((b) => ({ topic: b.topic, payload: b.payload, at: b.at })));
      } catch (e) {
        // Not durable, so not acked: the broker redelivers after we reconnect.
        log.error({ err: String(e) }, 'spool append failed; dropping connection so the broker redelivers');
        client?.stream.destroy();
        return;
      }
      m.messages += entries.length;
      const send = client ? (client as unknown as { _sendPacket: SendPacket })._sendPacket.bind(client) : undefined;
      for (const a of acks) {
        const id = (a.packet as { messageId?: number }).messageId;
        // An old connection's messageIds mean nothing now; the broker redelivers those.
        if (a.generation === generation && id !== undefined && ids.has(id)) send?.(a.packet);
      }
      enqueue(entries);
    })().finally(() => {
      committing = undefined;
      committingCount = 0;
      if (incoming.length) void commit();
      unblock();
    });
    await committing;
  };

  const scheduleCommit = () => {
    if (!commitScheduled && !committing) {
      commitScheduled = true;
      setImmediate(() => void commit());
    }
  };

  const spoolFull = () => spoolBacklog + committingCount + incoming.length >= o.spoolMaxMessages;

  const onTelemetry = (packet: IPublishPacket, cb: () => void) => {
    const gen = generation;
    const accept = () => {
      // Parked across a reconnect: that connection's messageIds are void; the broker
      // redelivers the message on the new session, so it must be neither spooled nor acked.
      if (gen !== generation) return;
      incoming.push({ topic: packet.topic, payload: packet.payload as Buffer, at: deps.clock.now(), messageId: packet.messageId });
      if (packet.qos > 0 && packet.messageId !== undefined) unsyncedIds.add(packet.messageId);
      scheduleCommit();
      cb();
    };
    // Past the bound, stop reading the socket: no PUBACK, the broker keeps the rest queued.
    if (spoolFull()) blocked.push(accept);
    else accept();
  };

  const unblock = () => {
    while (blocked.length && !spoolFull()) blocked.shift()!();
  };

  // ---- store side -------------------------------------------------------------------------

  const writeWithRetry = async (readings: Reading[]): Promise<Reading[]> => {
    let delay = o.retryMinMs;
    for (;;) {
      try {
        await deps.store.write(readings);
        m.storeWrites++;
        return [];
      } catch (e) {
        const retryable = (e as { retryable?: boolean }).retryable ?? true;
        m.storeErrors++;
        m.lastStoreError = String(e).slice(0, 300);
        if (!retryable) {
          // The store refuses the batch itself (e.g. a field type conflict): bisect to find
          // the points it refuses, write the rest, dead-letter those.
          if (readings.length === 1) return readings;
          const half = Math.ceil(readings.length / 2);
          return [...(await writeWithRetry(readings.slice(0, half))), ...(await writeWithRetry(readings.slice(half)))];
        }
        if (stopping) throw e;
        log.warn({ err: m.lastStoreError, delayMs: delay, readings: readings.length }, 'store write failed, retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, o.retryMaxMs);
      }
    }
  };

  /**
   * Store writes run `writeConcurrency` at a time (InfluxDB takes concurrent writes; one at a
   * time leaves it idle while the ingest builds the next batch). Batches finish in any order,
   * but everything after the write — dead letters, spool trim, live fan-out, rules — runs in
   * batch order: the spool is trimmed only through a contiguous stored prefix, and the rules
   * see each device's readings in event-time order.
   */
  const pump = () => {
    while (!stopping && queue.length && inFlight.length < o.writeConcurrency) {
      if (queuedReadings < o.batchSize && !flushDue && queue.length < o.batchSize) {
        // Wait for the batch to fill or age. Real time on purpose: this is I/O batching, not
        // domain time, and must not depend on a driven clock.
        ageTimer ??= setTimeout(() => {
          ageTimer = undefined;
          flushDue = true;
          pump();
        }, o.batchAgeMs);
        return;
      }
      flushDue = false;
      if (ageTimer) {
        clearTimeout(ageTimer);
        ageTimer = undefined;
      }
      const take: Work[] = [];
      let n = 0;
      while (queue.length && (take.length === 0 || n + queue[0]!.readings.length <= o.batchSize)) {
        const w = queue.shift()!;
        take.push(w);
        n += w.readings.length;
      }
      queuedReadings -= n;
      const readings = take.flatMap((w) => w.readings);
      const f: InFlight = { batch: take, readings, state: 'writing', refused: [], done: Promise.resolve() };
      inFlight.push(f);
      f.done = (readings.length ? writeWithRetry(readings) : Promise.resolve([] as Reading[])).then(
        (refused) => {
          f.state = 'stored';
          f.refused = refused;
        },
        (e: unknown) => {
          // Only when stopping: the batch stays in the spool for the next start.
          f.state = 'failed';
          log.warn({ err: String(e) }, 'batch left in spool');
        },
      ).finally(() => {
        settle();
        unblock();
        pump();
      });
    }
  };

  /** Post-process the stored prefix of the in-flight batches, in batch order. */
  const settle = () => {
    while (inFlight.length && inFlight[0]!.state === 'stored') afterStore(inFlight.shift()!);
    if (inFlight.length && inFlight[0]!.state === 'failed' && inFlight.every((f) => f.state !== 'writing')) {
      // Stopping with a failed write: put it and everything after it back, in order (written
      // ones will be written again — a point overwrites itself).
      const back = inFlight.splice(0).flatMap((f) => f.batch);
      queue.unshift(...back);
      for (const w of back) queuedReadings += w.readings.length;
    }
  };

  const afterStore = ({ batch, readings, refused }: InFlight) => {
    const dead: NewDeadLetter[] = [];
    for (const w of batch) {
      for (const r of w.rejections) {
        dead.push({ at: w.at, deviceId: w.deviceId, topic: w.topic, reason: r.reason, raw: r.raw });
      }
    }
    for (const r of refused) dead.push({ at: deps.clock.now(), deviceId: r.deviceId, topic: topics.telemetry(r.deviceId), reason: 'store_rejected', raw: JSON.stringify(r) });
    if (dead.length) {
      deps.deadLetters.add(dead);
      for (const d of dead) m.rejected[d.reason] = (m.rejected[d.reason] ?? 0) + 1;
      m.rejectedTotal += dead.length;
    }
    m.readingsStored += readings.length - refused.length;
    const lastSeq = batch[batch.length - 1]!.seq;
    spoolBacklog -= batch.length;
    publishLive(readings);
    runRules(readings);
    if (!deps.rules) {
      // The readings are in the store: now the spool may forget them.
      spool?.trimThrough(lastSeq);
    } else {
      // With rules, the spool keeps them until a rules snapshot holds their effect (and the
      // incidents they raised are acknowledged by the broker): after a crash, the restart
      // re-runs them through the restored engine. A busy ingest snapshots early so the spool
      // does not grow without bound.
      spool?.markStored(lastSeq);
      rulesSeq = lastSeq;
      if (rulesSeq - snapshotSeq >= o.spoolMaxMessages) void writeSnapshot();
    }
  };

  /**
   * Live fan-out after a store write: the newest reading of each device in the batch (the
   * dashboard shows latest values; history comes from the store). A backlog of ten readings
   * per device costs one live entry, not ten — the fan-out was ~3 µs per reading in JSON and
   * MQTT encoding, plus the broker's and the API's share.
   */
  const publishLive = (readings: Reading[]) => {
    // client.connected, not our flag: it is set at the CONNACK, before 'connect' (see there).
    if (!client?.connected || !readings.length) return;
    const newest = new Map<string, Reading>();
    for (const r of readings) {
      const had = newest.get(r.deviceId);
      if (!had || had.ts <= r.ts) newest.set(r.deviceId, r);
    }
    const all = newest.size === readings.length ? readings : [...newest.values()];
    for (let i = 0; i < all.length; i += o.liveChunk) {
      const chunk: LiveReading[] = [];
      for (let j = i; j < Math.min(i + o.liveChunk, all.length); j++) chunk.push(toLive(all[j]!));
      client.publish(topics.live, JSON.stringify(chunk), { qos: 0 });
    }
  };

  const publishIncidents = (events: readonly IncidentEvent[]) => {
    for (const e of events) {
      if (!client) continue;
      // Tracked until the broker's PUBACK: a snapshot trims the spool only once the incidents
      // raised before it are acknowledged (else a crash would lose them with MQTT.js' memory).
      const acked = new Promise<boolean>((res) => client!.publish(topics.incidents, JSON.stringify(e), { qos: 1 }, (err) => res(!err)));
      incidentsInFlight.add(acked);
      void acked.then(() => incidentsInFlight.delete(acked));
      m.incidentsPublished++;
    }
  };

  /** Move the rules onto the registry's current topology if it changed (cheap when it did not). */
  const syncTopology = (force = false) => {
    const rules = deps.rules;
    if (!rules?.topologyChanged) return;
    const v = deps.registry.topologyVersion?.() ?? topologySeen;
    if (!force && v === topologySeen) return;
    topologySeen = v;
    loadLocations();
    try {
      publishIncidents(rules.topologyChanged());
      log.info({ topologyVersion: v }, 'rules engine took the new topology');
    } catch (e) {
      log.error({ err: String(e) }, 'rules engine failed to take the new topology');
    }
  };

  const runRules = (readings: Reading[]) => {
    const rules = deps.rules;
    if (!rules) return;
    // A device provisioned a moment ago: its readings must meet an engine that knows it.
    syncTopology();
    // Event-time order per device, also when a backlog arrives late: the batch is sorted by
    // event time (which orders each device's readings too, and keeps devices interleaved as
    // they happened); anything at or before the device's last handed reading is a duplicate
    // or too late to re-order, and goes to the store only.
    const sorted = [...readings].sort((a, b) => a.ts - b.ts || (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    const now = deps.clock.now();
    if (sorted.length) lastArrival = now;
    for (const r of sorted) {
      const last = rulesLastTs.get(r.deviceId) ?? Number.NEGATIVE_INFINITY;
      if (r.ts <= last) {
        m.rulesLate++;
        continue;
      }
      rulesLastTs.set(r.deviceId, r.ts);
      // Event time leads while readings flow: time-outs due before this reading fire first,
      // as they would have live (a reading exactly at a deadline is still in time).
      if (r.ts > maxEventTs) maxEventTs = r.ts;
      advanceRules(Math.min(r.ts - 1, now));
      try {
        publishIncidents(rules.ingest(r));
      } catch (e) {
        log.error({ err: String(e), deviceId: r.deviceId }, 'rules engine failed on a reading');
      }
    }
    advanceRules(clockWatermark());
  };

  /** Fire the time-outs up to `to` (monotone: an older watermark does nothing). */
  const advanceRules = (to: number) => {
    if (!deps.rules || !(to > watermark)) return;
    watermark = to;
    try {
      publishIncidents(deps.rules.advanceTo(to));
    } catch (e) {
      log.error({ err: String(e) }, 'rules engine failed to advance');
    }
  };

  /**
   * The watermark the clock allows: the newest event time, moved on by the wall time since the
   * last reading arrived less the allowed lateness, never past the clock. A backlog being
   * caught up keeps arriving, so its own event time leads; a silent stream still times out.
   * Nothing seen yet: nothing can time out, so no advance.
   */
  const clockWatermark = (): number => {
    if (!Number.isFinite(maxEventTs)) return Number.NEGATIVE_INFINITY;
    const now = deps.clock.now();
    const w = maxEventTs + Math.max(0, now - lastArrival - o.watermarkLatenessMs);
    return w < now ? w : now;
  };

  /**
   * Write the rules state (engine snapshot + per-device last event time) durably, then trim
   * the spool through the last message whose readings the snapshot covers. One at a time.
   */
  let snapshotting: Promise<void> | undefined;
  const writeSnapshot = (): Promise<void> => {
    if (!deps.rules) return Promise.resolve();
    if (snapshotting) return snapshotting;
    const run = async () => {
      const covered = rulesSeq;
      try {
        mkdirSync(deps.config.dataDir, { recursive: true });
        const file = rulesSnapshotFile(deps.config.dataDir);
        const body = JSON.stringify({ at: deps.clock.now(), seq: covered, engine: deps.rules!.snapshot(), lastTs: Object.fromEntries(rulesLastTs) });
        const fd = openSync(`${file}.tmp`, 'w');
        try {
          writeSync(fd, body);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(`${file}.tmp`, file);
      } catch (e) {
        log.error({ err: String(e) }, 'rules snapshot failed');
        return;
      }
      // Incidents raised so far must be in the broker before their readings leave the spool.
      const delivered = (await Promise.all([...incidentsInFlight])).every(Boolean);
      // An incident the client gave up on (it was closing): keep the readings, a restart re-raises it.
      if (delivered && covered > snapshotSeq) {
        snapshotSeq = covered;
        spool?.trimThrough(covered);
      }
    };
    snapshotting = run().finally(() => (snapshotting = undefined));
    return snapshotting;
  };

  /**
   * Keep the store's downsampled (season-long) series right, off the write path: hours made
   * stale by late readings are recomputed every minute, and an hourly reconcile repairs what
   * a missed continuous query or a lost stale mark left behind (storage/readings/SCHEMA.md).
   * Real-time timers on purpose, like the batching: storage upkeep, not domain time.
   */
  const startMaintenance = () => {
    const store = deps.store;
    const every = (ms: number, what: string, f: () => Promise<number>) => {
      if (!ms) return;
      let running = false;
      const t = setInterval(() => {
        if (running || stopping) return;
        running = true;
        void f()
          .then((n) => {
            if (n) log.info({ hours: n }, `${what}: downsampled hours recomputed`);
          })
          .catch((e: unknown) => log.warn({ err: String(e) }, `${what} failed; retried on the next tick`))
          .finally(() => (running = false));
      }, ms);
      t.unref();
      maintenanceTimers.push(t);
    };
    if (store.flushDownsampled) every(o.downsampleFlushEveryMs, 'flush', () => store.flushDownsampled!());
    if (store.reconcileDownsampled) {
      every(o.reconcileEveryMs, 'reconcile', () => {
        const now = deps.clock.now();
        return store.reconcileDownsampled!(now - o.reconcileSpanMs, now);
      });
    }
  };

  // ---- MQTT --------------------------------------------------------------------------------

  const connect = () =>
    new Promise<void>((resolve, reject) => {
      const c = mqtt.connect(deps.mqtt.url, {
        clientId: deps.mqtt.clientId,
        username: deps.mqtt.username,
        password: deps.mqtt.password,
        clean: false, // persistent session: the broker keeps what we have not acked
        protocolVersion: 4,
        keepalive: 60,
        reconnectPeriod: 500,
        connectTimeout: 10_000,
        queueQoSZero: false,
        resubscribe: true,
      });
      client = c;
      const orig = (c as unknown as { _sendPacket: SendPacket })._sendPacket.bind(c);
      // Hold the PUBACK of a telemetry message until the spool commit that holds it.
      (c as unknown as { _sendPacket: SendPacket })._sendPacket = (packet, cb, cbStorePut, noStore) => {
        const id = (packet as { messageId?: number }).messageId;
        if (packet.cmd === 'puback' && id !== undefined && unsyncedIds.has(id)) {
          heldAcks.push({ packet, generation });
          cb?.();
          return;
        }
        orig(packet, cb, cbStorePut, noStore);
      };
      c.handleMessage = (packet, cb) => {
        const t = parseTopic(packet.topic);
        if (t.type === 'platform' && packet.topic === topics.registryChanged) {
          onRegistryChanged(packet.payload as Buffer);
          cb();
          return;
        }
        onTelemetry(packet, cb);
      };
      let first = true;
      c.on('connect', (ack) => {
        // No generation change here: MQTT.js hands over the session's queued PUBLISHes as soon
        // as the CONNACK is in, before it emits 'connect' (it first replays its own outgoing
        // store). Those belong to this connection; a connection ends (and its held PUBACKs
        // expire) only at 'close'. Bumping here left their PUBACKs unsent for the whole session.
        connected = true;
        log.info({ sessionPresent: ack.sessionPresent }, 'connected to broker');
        // A resumed session already has our subscriptions; subscribing again is harmless.
        c.subscribe([...topics.allTelemetry, topics.registryChanged], { qos: 1 }, (err) => {
          if (err) log.error({ err: String(err) }, 'subscribe failed');
          if (first) {
            first = false;
            if (err) reject(err);
            else resolve();
          }
        });
      });
      c.on('close', () => {
        if (connected) log.warn('broker connection closed');
        connected = false;
        generation++;
        // Messages parked at the spool bound belong to the closed connection.
        blocked = [];
      });
      c.on('error', (err) => {
        log.warn({ err: String(err) }, 'mqtt error');
        if (first && /Not authorized|Bad username/i.test(String(err))) {
          first = false;
          reject(err);
        }
      });
    });

  const onRegistryChanged = (payload: Buffer) => {
    // The message says "something changed"; the registry says what (and its counter, whether).
    setImmediate(() => syncTopology(!deps.registry.topologyVersion));
    try {
      const j = JSON.parse(payload.toString('utf8')) as { deviceId?: unknown };
      if (typeof j.deviceId === 'string') {
        locations.delete(j.deviceId);
        unknownSince.delete(j.deviceId);
      } else loadLocations();
    } catch {
      loadLocations();
    }
  };

  return {
    async start() {
      stopping = false;
      spool = SpoolRepository.open(deps.config.dataDir, o.spoolSync);
      spoolBacklog = 0;
      // The spool is the truth: anything queued by an earlier start() is in it again.
      queue.length = 0;
      queuedReadings = 0;
      loadLocations();
      // Drain first: what was spooled before a crash goes ahead of anything new. Entries
      // already stored (kept for the rules) only go through the rules again: the restored
      // engine has not seen them, and the incidents they raise are re-sent (the API takes an
      // incident it already has as a duplicate). The client exists (connecting) from here on,
      // so those incidents queue in it until the broker takes them.
      const connecting = connect();
      const left = spool.all();
      const storedMark = spool.storedThrough();
      const rerun = left.filter((e) => e.seq <= storedMark);
      const fresh = rerun.length ? left.filter((e) => e.seq > storedMark) : left;
      if (rerun.length && deps.rules) {
        for (let i = 0; i < rerun.length; i += o.batchSize) runRules(rerun.slice(i, i + o.batchSize).flatMap((e) => toWork(e).readings));
        rulesSeq = rerun[rerun.length - 1]!.seq;
        m.rulesReplayed += rerun.length;
      } else if (rerun.length) {
        spool.trimThrough(rerun[rerun.length - 1]!.seq); // kept for rules that are now off
      }
      if (left.length) log.info({ messages: left.length, rulesOnly: rerun.length }, 'draining spool from previous run');
      enqueue(fresh);
      if (deps.rules) {
        snapshotTimer = setInterval(() => void writeSnapshot(), o.snapshotEveryMs).unref();
        lastArrival = deps.clock.now();
        // A quiet platform still notices a dead sensor: the watermark follows the clock.
        watermarkTimer = setInterval(() => {
          syncTopology();
          advanceRules(clockWatermark());
        }, o.watermarkTickMs).unref();
      }
      startMaintenance();
      await connecting;
    },

    async stop() {
      stopping = true;
      if (snapshotTimer) clearInterval(snapshotTimer);
      if (watermarkTimer) clearInterval(watermarkTimer);
      for (const t of maintenanceTimers.splice(0)) clearInterval(t);
      if (ageTimer) clearTimeout(ageTimer);
      blocked = [];
      // Spool what arrived (and ack it), then finish the writes in flight (their incidents go
      // out), snapshot the rules while the broker can still acknowledge those incidents; the
      // rest stays spooled. A broker that does not answer within 5 s leaves the spool untrimmed.
      await committing;
      await commit();
      while (inFlight.length) await Promise.all(inFlight.map((f) => f.done));
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([writeSnapshot(), new Promise<void>((r) => (giveUp = setTimeout(r, 5_000)))]);
      clearTimeout(giveUp); // not left to hold a process that is stopping for 5 s
      await client?.endAsync(false).catch(() => undefined);
      deps.deadLetters.prune(o.deadLettersKeep);
      await spool?.close();
      spool = undefined;
    },

    metrics() {
      return {
        connected,
        messages: m.messages,
        readingsStored: m.readingsStored,
        rejectedTotal: m.rejectedTotal,
        rejected: { ...m.rejected },
        spoolBacklog: spoolBacklog + committingCount + incoming.length,
        backpressure: blocked.length > 0,
        storeWrites: m.storeWrites,
        storeErrors: m.storeErrors,
        lastStoreError: m.lastStoreError,
        incidentsPublished: m.incidentsPublished,
        rulesLate: m.rulesLate,
        rulesReplayed: m.rulesReplayed,
      };
    },
  };
}

type SendPacket = (packet: Packet, cb?: () => void, cbStorePut?: () => void, noStore?: boolean) => void;
