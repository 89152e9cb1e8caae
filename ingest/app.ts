/**
 * The ingest, composed: MQTT session (persistent, held PUBACKs) → group commit to the durable
 * spool → validation → ordered store writes → dead letters, live fan-out and rules. Builds
 * everything from its dependencies; server.ts listens. Owns the order of start and stop and
 * what happens after a store write; each step is its own module.
 *
 * At-least-once, end to end (ARCHITECTURE.md "Durability"):
 *  1. A telemetry PUBLISH is appended to the spool; its PUBACK is held back until the spool
 *     write that holds it is durable (group-commit.ts; acking-session.mqtt.ts holds it).
 *  2. Spooled messages are validated and written to the store in batches by size and age,
 *     retried with backoff until the store acknowledges (write-pipeline.ts).
 *  3. Only then are they trimmed from the spool — with the rules engine on, only once a
 *     rules snapshot covers them and the incidents they raised are PUBACKed, so a crash
 *     between snapshots re-runs them through the restored engine (rules-runner.ts). On
 *     restart the spool is drained first.
 *  4. When the spool holds `spoolMaxMessages`, the ingest stops reading from the broker
 *     (no more PUBACKs); the broker keeps the rest in the persistent session.
 * Redelivered duplicates are harmless: a point with the same device and timestamp overwrites
 * itself in both stores.
 *
 * Spool mode (`feed: 'spool'`, issue 19): the broker on this machine does step 1 itself — it
 * appends device telemetry to the same spool and PUBACKs the device once that write is durable
 * (broker/telemetry-spool.ts) — and the ingest reads the spool (spool.feed.ts) instead of an
 * MQTT session; steps 2–3 are the same, and step 4's bound is the broker's. The MQTT session
 * stays for registry notices, incidents and the live fan-out.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import type { PlatformConfig } from '../domain/config.ts';
import { policyForCity, type HeatingPolicy } from '../domain/policy.ts';
import { topics } from '../domain/topics.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import type { DeadLetterRepository, NewDeadLetter } from '../storage/readings/dead-letter.repository.ts';
import type { ReadingStore } from '../storage/readings/reading-store.ts';
import { AckingSession } from './acking-session.mqtt.ts';
import { DeviceLocations } from './device-locations.ts';
import { ForecastLoop, type ForecastLoopDeps } from './forecast-runner.ts';
import { GroupCommit } from './group-commit.ts';
import { LiveFanout } from './live.fanout.ts';
import { defaultIngestOptions, type IngestOptions } from './options.ts';
import type { RulesPort } from './rules.port.ts';
import { RulesRunner } from './rules-runner.ts';
import { RulesSnapshotRepository } from './rules-snapshot.repository.ts';
import { SpoolFeed } from './spool.feed.ts';
import { SpoolRepository } from './spool.repository.ts';
import { decoder } from './telemetry.decoder.ts';
import { TelemetryValidator } from './telemetry.validator.ts';
import { startUpkeep, type Upkeep } from './upkeep.ts';
import { WritePipeline, type StoredBatch } from './write-pipeline.ts';

export { defaultIngestOptions, type IngestOptions } from './options.ts';
export { rulesSnapshotFile } from './rules-snapshot.repository.ts';

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
  /** Spool appends that failed (ENOSPC, EIO): none of their messages was acknowledged. */
  readonly spoolWriteErrors: number;
  /** The error the ingest's own spool (MQTT feed) is failing with now, or null (/health). */
  readonly spoolFailing: string | null;
  /** A store write is failing and being retried now (/health). */
  readonly storeFailing: boolean;
  /** Dead-letter writes records.db refused (their batches wait in the spool, retried). */
  readonly deadLetterWriteErrors: number;
  /** The error the dead letters' writes fail with now, or null (/health). */
  readonly deadLettersFailing: string | null;
  readonly incidentsPublished: number;
  /** Readings older than the device's last reading handed to the rules (stored, not re-ordered). */
  readonly rulesLate: number;
  /** Spooled messages re-run through the rules at start (stored before a crash, after the last snapshot). */
  readonly rulesReplayed: number;
  /** Spool mode: telemetry that came over MQTT anyway (a broker in MQTT mode), left unacknowledged. */
  readonly misrouted: number;
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
  /**
   * Where telemetry comes from: 'mqtt' (default) the ingest's persistent MQTT session, which
   * it spools itself; 'spool' the spool the broker on this machine writes in `dataDir`.
   */
  readonly feed?: 'mqtt' | 'spool';
  /** The forecaster beside the rules (issue #20, forecast-runner.ts); runs only with the rules on. */
  readonly forecast?: Pick<ForecastLoopDeps, 'city' | 'forecasts' | 'history'>;
}

export function createIngestApp(deps: IngestDeps): IngestApp {
  const o: IngestOptions = { ...defaultIngestOptions, ...deps.options };
  const log = deps.logger.child({ component: 'ingest' });
  const locations = new DeviceLocations(deps.registry, deps.clock);
  const toWork = decoder(new TelemetryValidator(deps.policy ?? policyForCity(deps.config.city)), locations, log);
  const session = new AckingSession({ ...deps.mqtt, subscriptions: [...topics.allTelemetry, topics.registryChanged], logger: log });
  const spoolMode = deps.feed === 'spool';
  let spool: SpoolRepository | undefined;
  let feed: SpoolFeed | undefined;
  /** Whoever keeps the spool's marks: the ingest's own spool (MQTT mode) or its reader (spool mode). */
  const marks = () => spool ?? feed?.reader;
  let misrouted = 0;
  let upkeep: Upkeep | undefined;
  const dead = { total: 0, byReason: {} as Record<string, number>, stored: 0 };
  const live = new LiveFanout(o.liveChunk);

  const publishIncident = (e: IncidentEvent) => session.publishAcked(topics.incidents, JSON.stringify(e));
  const forecast =
    deps.forecast && deps.rules
      ? new ForecastLoop({
          ...deps.forecast,
          policy: deps.policy ?? policyForCity(deps.config.city),
          policyCity: deps.config.city,
          publishIncident,
          clock: deps.clock,
          logger: log.child({ component: 'forecast' }),
          everyMs: o.forecastEveryMs,
          watermarkLatenessMs: o.watermarkLatenessMs,
          topologyVersion: deps.registry.topologyVersion?.bind(deps.registry),
        })
      : undefined;
  let forecastStarted: Promise<void> | undefined;
  // Warm-up from stored history may take a while on a large city: the ingest does not wait for it.
  const startForecast = () => forecast?.start().catch((e: unknown) => log.error({ err: String(e) }, 'forecaster failed to start'));

  const rules = deps.rules
    ? new RulesRunner({
        rules: deps.rules,
        lastTs: deps.rulesLastTs,
        snapshots: new RulesSnapshotRepository(deps.config.dataDir),
        // The forecaster sees the engine's events too: a real apartment_cold confirms a prediction.
        publishIncident: (e) => {
          forecast?.engineEvents([e]);
          return publishIncident(e);
        },
        markStored: (seq) => marks()?.markStored(seq),
        trimThrough: (seq) => marks()?.trimThrough(seq),
        clock: deps.clock,
        logger: log,
        snapshotAfterMessages: o.spoolMaxMessages,
        snapshotEveryMs: o.snapshotEveryMs,
        watermarkLatenessMs: o.watermarkLatenessMs,
        watermarkTickMs: o.watermarkTickMs,
        topologyVersion: deps.registry.topologyVersion?.bind(deps.registry),
        reloadLocations: () => locations.loadAll(),
      })
    : undefined;

  /** After a store write, in batch order: dead letters, counters, live, then rules or trim. */
  const afterStore = ({ batch, readings, refused }: StoredBatch) => {
    const letters: NewDeadLetter[] = [];
    for (const w of batch) {
      for (const r of w.rejections) letters.push({ at: w.at, deviceId: w.deviceId, topic: w.topic, reason: r.reason, raw: r.raw });
    }
    for (const r of refused)
      letters.push({
        at: deps.clock.now(),
        deviceId: r.deviceId,
        topic: topics.telemetry(r.deviceId),
        reason: 'store_rejected',
        raw: JSON.stringify(r),
      });
    if (letters.length) {
      // Refused (disk full, I/O error): thrown before anything else here, so the pipeline
      // keeps the batch and hands it on again (write-pipeline.ts); the spool keeps it meanwhile.
      deps.deadLetters.add(letters);
      for (const d of letters) dead.byReason[d.reason] = (dead.byReason[d.reason] ?? 0) + 1;
      dead.total += letters.length;
    }
    dead.stored += readings.length - refused.length;
    // session.connected, not a flag of ours: it is set at the CONNACK, before 'connect'.
    if (session.connected) for (const m of live.messages(readings)) session.publish(m.topic, m.payload);
    const lastSeq = batch[batch.length - 1]!.seq;
    forecast?.readings(readings);
    // Without rules the readings in the store are all that matters: the spool may forget them.
    if (rules) rules.stored(readings, lastSeq);
    else marks()?.trimThrough(lastSeq);
  };

  const pipeline = new WritePipeline(deps.store, o, log, afterStore);
  const commit = new GroupCommit({
    spool: () => spool,
    clock: deps.clock,
    logger: log,
    maxMessages: o.spoolMaxMessages,
    backlog: () => pipeline.backlog(),
    generation: () => session.generation,
    release: (ds) => session.release(ds),
    dropConnection: () => session.drop(),
    committed: (entries) => pipeline.push(entries.map(toWork)),
  });
  pipeline.onSettled = () => {
    commit.unblock();
    feed?.pump();
  };

  session.onDelivery((d, next) => {
    if (d.topic === topics.registryChanged) {
      rules?.registryChanged();
      locations.onRegistryChanged(d.payload);
      next();
      session.release([d]);
      return;
    }
    if (spoolMode) {
      // The broker should have spooled it: a broker in MQTT mode. Not acknowledged (the broker
      // keeps it) and said loudly, rather than written beside the broker's spool.
      if (misrouted++ % 10_000 === 0)
        log.error(
          { topic: d.topic, misrouted },
          'telemetry over MQTT in spool mode: run the broker with the same INGEST_FEED; left unacknowledged',
        );
      next();
      return;
    }
    commit.offer(d, next);
  });
  session.onClose(() => commit.dropParked());

  /**
   * Spool mode's start: entries stored before a crash and kept for the rules go through the
   * restored engine again (as in MQTT mode), then the feed follows the broker's commits.
   */
  const startFromSpool = async () => {
    feed = new SpoolFeed({
      dataDir: deps.config.dataDir,
      maxBacklog: Math.min(o.spoolMaxMessages, o.spoolReadAhead),
      markEveryMs: o.spoolMarkEveryMs,
      chunk: o.batchSize,
      backlog: () => pipeline.backlog(),
      push: (entries) => pipeline.push(entries.map(toWork)),
      logger: log,
    });
    pipeline.reset();
    locations.loadAll();
    const connecting = session.start();
    const reader = feed.reader;
    const storedMark = reader.storedThrough();
    let rerun = 0;
    while (reader.position <= storedMark) {
      const part = reader.read(o.batchSize, storedMark, true); // views: only their readings are kept
      if (!part.length) break;
      rerun += part.length;
      const last = part[part.length - 1]!.seq;
      if (rules)
        rules.replay(
          part.flatMap((e) => toWork(e).readings),
          last,
          part.length,
        );
      else reader.trimThrough(last); // kept for rules that are now off
    }
    if (rerun) log.info({ rulesOnly: rerun }, 'spool entries re-run through the rules');
    feed.start();
    rules?.start();
    forecastStarted = startForecast();
    upkeep = startUpkeep(deps.store, o, deps.clock, log);
    await connecting;
  };

  return {
    async start() {
      if (spoolMode) return startFromSpool();
      spool = SpoolRepository.open(deps.config.dataDir, o.spoolSync);
      // The spool is the truth: anything queued by an earlier start() is in it again.
      pipeline.reset();
      locations.loadAll();
      // Drain first: what was spooled before a crash goes ahead of anything new. Entries
      // already stored (kept for the rules) only go through the rules again: the restored
      // engine has not seen them, and the incidents they raise are re-sent (the API takes an
      // incident it already has as a duplicate). The client exists (connecting) from here on,
      // so those incidents queue in it until the broker takes them.
      const connecting = session.start();
      const left = spool.all();
      const storedMark = spool.storedThrough();
      const rerun = left.filter((e) => e.seq <= storedMark);
      const fresh = rerun.length ? left.filter((e) => e.seq > storedMark) : left;
      if (rerun.length && rules) {
        for (let i = 0; i < rerun.length; i += o.batchSize) {
          const part = rerun.slice(i, i + o.batchSize);
          rules.replay(
            part.flatMap((e) => toWork(e).readings),
            part[part.length - 1]!.seq,
            part.length,
          );
        }
      } else if (rerun.length) {
        spool.trimThrough(rerun[rerun.length - 1]!.seq); // kept for rules that are now off
      }
      if (left.length) log.info({ messages: left.length, rulesOnly: rerun.length }, 'draining spool from previous run');
      pipeline.push(fresh.map(toWork));
      rules?.start();
      forecastStarted = startForecast();
      upkeep = startUpkeep(deps.store, o, deps.clock, log);
      await connecting;
    },

    async stop() {
      feed?.stop();
      pipeline.halt();
      rules?.stop();
      await forecastStarted;
      forecast?.stop();
      upkeep?.stop();
      commit.dropParked();
      // Spool what arrived (and ack it), then finish the writes in flight (their incidents go
      // out), snapshot the rules while the broker can still acknowledge those incidents; the
      // rest stays spooled. A broker that does not answer within 5 s leaves the spool untrimmed.
      await commit.settled();
      await commit.commit();
      await pipeline.drain();
      if (rules) {
        let giveUp: NodeJS.Timeout | undefined;
        await Promise.race([rules.snapshot(), new Promise<void>((r) => (giveUp = setTimeout(r, 5_000)))]);
        clearTimeout(giveUp); // not left to hold a process that is stopping for 5 s
      }
      await session.end();
      try {
        deps.deadLetters.prune(o.deadLettersKeep);
      } catch (err) {
        log.warn({ err: String(err) }, 'dead letters not pruned');
      }
      await spool?.close();
      spool = undefined;
      feed?.close();
      feed = undefined;
    },

    metrics() {
      const w = pipeline.counters;
      const r = rules?.counters ?? { incidentsPublished: 0, rulesLate: 0, rulesReplayed: 0 };
      return {
        connected: session.connected,
        messages: commit.messages + (feed?.messages ?? 0),
        readingsStored: dead.stored,
        rejectedTotal: dead.total,
        rejected: { ...dead.byReason },
        spoolBacklog: pipeline.backlog() + commit.pending() + (feed?.unread() ?? 0),
        // Spool mode: the broker parks publishes once this many are spooled and not stored.
        backpressure: commit.backpressure || (!!feed && pipeline.backlog() + feed.unread() >= o.spoolMaxMessages),
        storeWrites: w.storeWrites,
        storeErrors: w.storeErrors,
        lastStoreError: w.lastStoreError,
        spoolWriteErrors: marks()?.writeErrors ?? 0,
        spoolFailing: spool?.failing ?? null,
        storeFailing: w.storeFailing,
        deadLetterWriteErrors: pipeline.afterStore.errors,
        deadLettersFailing: pipeline.afterStore.failing,
        incidentsPublished: r.incidentsPublished,
        rulesLate: r.rulesLate,
        rulesReplayed: r.rulesReplayed,
        misrouted,
      };
    },
  };
}
