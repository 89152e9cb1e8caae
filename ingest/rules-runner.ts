/**
 * Runs stored readings through the rules engine (`RulesPort`) and keeps its state safe:
 * event-time order per device, incidents published at QoS 1 and tracked until the broker
 * acknowledges them, and the rules snapshot that lets the spool forget readings.
 *
 * With rules on, the spool keeps stored readings until a rules snapshot holds their effect
 * and the incidents they raised are acknowledged: after a crash, the restart re-runs them
 * through the restored engine (`replay`). A busy ingest snapshots early (every
 * `spoolMaxMessages` messages) so the spool does not grow without bound.
 *
 * Time-outs fire on a watermark (ARCHITECTURE.md "Time"): event time while readings flow; on
 * a quiet stream it moves on with the clock from the newest event time, less the allowed
 * lateness. Live topology: the registry's change counter is checked before every rules batch
 * and on the watermark tick, and the API's registry message asks for an immediate reload.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import type { Reading } from '../domain/reading.ts';
import type { RulesPort } from './rules.port.ts';
import { eventWatermark } from './event.watermark.ts';
import type { RulesSnapshotRepository } from './rules-snapshot.repository.ts';

export interface RulesRunnerDeps {
  readonly rules: RulesPort;
  /** Per-device last event time handed to the engine, from the previous run's snapshot. */
  readonly lastTs?: Readonly<Record<string, number>>;
  readonly snapshots: RulesSnapshotRepository;
  /** Publish one incident at QoS 1; resolves true once the broker has it. */
  readonly publishIncident: (e: IncidentEvent) => Promise<boolean>;
  /** The spool: readings stay until a snapshot covers them. */
  readonly markStored: (seq: number) => void;
  readonly trimThrough: (seq: number) => void;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Snapshot early once this many messages were run since the last one. */
  readonly snapshotAfterMessages: number;
  readonly snapshotEveryMs: number;
  readonly watermarkLatenessMs: number;
  readonly watermarkTickMs: number;
  /** The registry's topology change counter (absent: only the registry message tells). */
  readonly topologyVersion?: () => number;
  /** Reload the device locations (the topology changed). */
  readonly reloadLocations: () => void;
}

export class RulesRunner {
  readonly #d: RulesRunnerDeps;
  readonly #lastTs: Map<string, number>;
  /** Last spool seq whose readings went through the rules, and the last one a snapshot covers. */
  #rulesSeq = 0;
  #snapshotSeq = 0;
  readonly #incidentsInFlight = new Set<Promise<boolean>>();
  #watermark = Number.NEGATIVE_INFINITY;
  #maxEventTs: number;
  #lastArrival: number;
  #topologySeen: number;
  #snapshotting: Promise<void> | undefined;
  #timers: NodeJS.Timeout[] = [];
  readonly counters = { incidentsPublished: 0, rulesLate: 0, rulesReplayed: 0 };

  constructor(d: RulesRunnerDeps) {
    this.#d = d;
    this.#lastTs = new Map(Object.entries(d.lastTs ?? {}));
    this.#maxEventTs = Math.max(Number.NEGATIVE_INFINITY, ...this.#lastTs.values());
    this.#lastArrival = d.clock.now();
    this.#topologySeen = d.topologyVersion?.() ?? 0;
  }

  start(): void {
    this.#lastArrival = this.#d.clock.now();
    this.#timers.push(
      setInterval(() => void this.snapshot(), this.#d.snapshotEveryMs).unref(),
      // A quiet platform still notices a dead sensor: the watermark follows the clock.
      setInterval(() => {
        this.#syncTopology();
        this.#advance(this.#clockWatermark());
      }, this.#d.watermarkTickMs).unref(),
    );
  }

  stop(): void {
    for (const t of this.#timers.splice(0)) clearInterval(t);
  }

  /** The API's registry message: "something changed"; the registry says what (and its counter, whether). */
  registryChanged(): void {
    setImmediate(() => this.#syncTopology(!this.#d.topologyVersion));
  }

  /** Move the rules onto the registry's current topology if it changed (cheap when it did not). */
  #syncTopology(force = false): void {
    const { rules, logger: log } = this.#d;
    if (!rules.topologyChanged) return;
    const v = this.#d.topologyVersion?.() ?? this.#topologySeen;
    if (!force && v === this.#topologySeen) return;
    this.#topologySeen = v;
    this.#d.reloadLocations();
    try {
      this.#publish(rules.topologyChanged());
      log.info({ topologyVersion: v }, 'rules engine took the new topology');
    } catch (e) {
      log.error({ err: String(e) }, 'rules engine failed to take the new topology');
    }
  }

  /** Stored readings of spool entries up to `lastSeq`, in spool order. */
  stored(readings: readonly Reading[], lastSeq: number): void {
    this.run(readings);
    this.#d.markStored(lastSeq);
    this.#rulesSeq = lastSeq;
    if (this.#rulesSeq - this.#snapshotSeq >= this.#d.snapshotAfterMessages) void this.snapshot();
  }

  /** At start: entries stored before a crash and not covered by the snapshot (no second store write). */
  replay(readings: readonly Reading[], lastSeq: number, messages: number): void {
    this.run(readings);
    this.#rulesSeq = lastSeq;
    this.counters.rulesReplayed += messages;
  }

  run(readings: readonly Reading[]): void {
    const { rules, logger: log } = this.#d;
    // A device provisioned a moment ago: its readings must meet an engine that knows it.
    this.#syncTopology();
    // Event-time order per device, also when a backlog arrives late: the batch is sorted by
    // event time (which orders each device's readings too, and keeps devices interleaved as
    // they happened); anything at or before the device's last handed reading is a duplicate
    // or too late to re-order, and goes to the store only.
    const sorted = [...readings].sort((a, b) => a.ts - b.ts || (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    const now = this.#d.clock.now();
    if (sorted.length) this.#lastArrival = now;
    for (const r of sorted) {
      const last = this.#lastTs.get(r.deviceId) ?? Number.NEGATIVE_INFINITY;
      if (r.ts <= last) {
        this.counters.rulesLate++;
        continue;
      }
      this.#lastTs.set(r.deviceId, r.ts);
      // Event time leads while readings flow: time-outs due before this reading fire first,
      // as they would have live (a reading exactly at a deadline is still in time).
      if (r.ts > this.#maxEventTs) this.#maxEventTs = r.ts;
      this.#advance(Math.min(r.ts - 1, now));
      try {
        this.#publish(rules.ingest(r));
      } catch (e) {
        log.error({ err: String(e), deviceId: r.deviceId }, 'rules engine failed on a reading');
      }
    }
    this.#advance(this.#clockWatermark());
  }

  /** Fire the time-outs up to `to` (monotone: an older watermark does nothing). */
  #advance(to: number): void {
    if (!(to > this.#watermark)) return;
    this.#watermark = to;
    try {
      this.#publish(this.#d.rules.advanceTo(to));
    } catch (e) {
      this.#d.logger.error({ err: String(e) }, 'rules engine failed to advance');
    }
  }

  #clockWatermark(): number {
    return eventWatermark(this.#maxEventTs, this.#lastArrival, this.#d.clock.now(), this.#d.watermarkLatenessMs);
  }

  #publish(events: readonly IncidentEvent[]): void {
    for (const e of events) {
      // Tracked until the broker's PUBACK: a snapshot trims the spool only once the incidents
      // raised before it are acknowledged (else a crash would lose them with MQTT.js' memory).
      const acked = this.#d.publishIncident(e);
      this.#incidentsInFlight.add(acked);
      void acked.then(() => this.#incidentsInFlight.delete(acked));
      this.counters.incidentsPublished++;
    }
  }

  /**
   * Write the rules state (engine snapshot + per-device last event time) durably, then trim
   * the spool through the last message whose readings the snapshot covers. One at a time.
   */
  snapshot(): Promise<void> {
    if (this.#snapshotting) return this.#snapshotting;
    const run = async () => {
      const covered = this.#rulesSeq;
      try {
        // Taken synchronously: the engine's state and lastTs as of `covered`.
        const snap = { at: this.#d.clock.now(), seq: covered, engine: this.#d.rules.snapshot(), lastTs: Object.fromEntries(this.#lastTs) };
        await this.#d.snapshots.write(snap);
      } catch (e) {
        this.#d.logger.error({ err: String(e) }, 'rules snapshot failed');
        return;
      }
      // Incidents raised so far must be in the broker before their readings leave the spool.
      const delivered = (await Promise.all([...this.#incidentsInFlight])).every(Boolean);
      // An incident the client gave up on (it was closing): keep the readings, a restart re-raises it.
      if (delivered && covered > this.#snapshotSeq) {
        this.#snapshotSeq = covered;
        this.#d.trimThrough(covered);
      }
    };
    this.#snapshotting = run().finally(() => (this.#snapshotting = undefined));
    return this.#snapshotting;
  }
}
