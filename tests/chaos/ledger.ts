/**
 * The chaos suite's ledger (issue 17): every acknowledged reading by (device, ts), the moment
 * its PUBACK came back, and the moment it was first seen in influxd — stamped by a poller
 * that runs in the background for the whole suite, so lateness is PUBACK → stored as it
 * happened, not PUBACK → the end of a drain. The same poller follows the spool files
 * (SpoolTail), so a reading that never arrives can be named by the stage that had it last.
 *
 * After a fault, `settle` waits for every acknowledged reading with a generous deadline (a
 * stall on a busy machine is not a loss), then reports the step: how many, how late
 * (p50/p99/max), how many later than `LATE_AFTER_MS`, and which never came and where they
 * were last. Arrival times are as good as the poll: within one poll interval plus the query.
 */
import { appendFileSync } from 'node:fs';
import type { InfluxdHandle } from '../harness/influxd.ts';
import { keysOf, locate, readingKey, type Missing } from './locate.ts';
import { SpoolTail } from './spool-tail.ts';

/** Later than this from PUBACK to the store counts as late (the old suite's stall limit was 15 s). */
export const LATE_AFTER_MS = 10_000;
/** Readings pending longer than this are queried device by device (backlogs with old ts). */
const RECENT_MS = 5 * 60_000;

interface Entry {
  readonly step: string;
  readonly ackAt: number;
  /** When the publisher handed it to MQTT.js (the load's readings; a backlog message has none). */
  readonly publishedAt?: number;
  arrivedAt?: number;
}

export interface Spread {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface StepReport {
  readonly step: string;
  /** Readings acknowledged during the step. */
  readonly readings: number;
  /** PUBACK → first seen in influxd, ms, over the step's readings that arrived. */
  readonly lateness: Spread;
  /** The same over those later than LATE_AFTER_MS. */
  readonly late: Spread;
  /**
   * Publish → PUBACK, ms, over the load's readings: where a stall shows in spool mode, whose
   * bound holds the PUBACK back (the device keeps the reading) rather than storing late.
   */
  readonly ackDelay: Spread;
  /** Never arrived within the deadline (this step's or an earlier one's still pending). */
  readonly missing: readonly Missing[];
  /** From the start of `settle` until the last reading arrived (or the deadline). */
  readonly settledMs: number;
  /** How long the publishers took to get their last PUBACK once the step stopped publishing. */
  readonly drainMs: number;
}

export interface LedgerOptions {
  readonly influx: () => InfluxdHandle;
  readonly feed: 'spool' | 'mqtt';
  /** DATA_DIR of the broker and the ingest (the spool is `spool/` under it). */
  readonly dataDir: string;
  readonly brokerDir: string;
  readonly ingestClientId: string;
  readonly pollMs?: number;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : 0;

export const spread = (values: readonly number[]): Spread => {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: Math.round(percentile(s, 50)), p99: Math.round(percentile(s, 99)), max: Math.round(s[s.length - 1] ?? 0) };
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ArrivalLedger {
  readonly #o: LedgerOptions;
  readonly #tail: SpoolTail;
  /** Every acknowledged reading (a resend of one already here is not counted again). */
  readonly #entries = new Map<string, Entry>();
  /** Not yet seen in influxd: device → ts → entry. */
  readonly #pending = new Map<string, Map<number, Entry>>();
  #pendingCount = 0;
  /** Spool sequence numbers each reading key was seen under. */
  readonly #seqs = new Map<string, number[]>();
  #step = 'start';
  #running = false;
  #loop: Promise<void> | undefined;
  /** Polls of influxd that failed (it is down or paused in some steps). */
  pollErrors = 0;

  constructor(o: LedgerOptions) {
    this.#o = o;
    this.#tail = new SpoolTail(o.dataDir, o.feed === 'spool');
  }

  /** Distinct readings acknowledged so far. */
  get acked(): number {
    return this.#entries.size;
  }

  /** Readings acknowledged from now on belong to `step`. */
  beginStep(step: string): void {
    this.#step = step;
  }

  ack(deviceId: string, ts: number, at = performance.now(), publishedAt?: number): void {
    const key = readingKey(deviceId, ts);
    if (this.#entries.has(key)) return;
    const e: Entry = { step: this.#step, ackAt: at, publishedAt };
    this.#entries.set(key, e);
    let m = this.#pending.get(deviceId);
    if (!m) this.#pending.set(deviceId, (m = new Map()));
    m.set(ts, e);
    this.#pendingCount++;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        await this.#pollOnce();
        await sleep(this.#o.pollMs ?? 250);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  async #pollOnce(): Promise<void> {
    try {
      for (const e of this.#tail.poll()) {
        for (const k of keysOf(e.topic, e.payload)) {
          const l = this.#seqs.get(k);
          if (!l) this.#seqs.set(k, [e.seq]);
          else if (!l.includes(e.seq)) l.push(e.seq);
        }
      }
    } catch {
      // A segment trimmed under the read: the next poll goes on from the oldest one left.
    }
    if (!this.#pendingCount) return;
    const statements = this.#statements();
    const sentAt = performance.now();
    let body: { results?: { series?: { values: [number, number, string][] }[] }[] };
    try {
      const r = await fetch(`${this.#o.influx().url}/query?db=heat&epoch=ms`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ q: statements.join(';') }),
        signal: AbortSignal.timeout(5000),
      });
      if (!r.ok) throw new Error(String(r.status));
      body = (await r.json()) as typeof body;
    } catch {
      this.pollErrors++; // influxd killed or paused: the readings are stamped when it answers again
      return;
    }
    for (const res of body.results ?? []) {
      for (const s of res.series ?? []) {
        for (const [ts, , device] of s.values) {
          const m = this.#pending.get(device);
          const e = m?.get(ts);
          if (!e) continue;
          e.arrivedAt = Math.max(sentAt, e.ackAt);
          m!.delete(ts);
          this.#pendingCount--;
        }
      }
    }
  }

  /** One query for the recent pending readings, one per device for older ones (a backlog). */
  #statements(): string[] {
    const recentFrom = Date.now() - RECENT_MS;
    let minRecent = Number.POSITIVE_INFINITY;
    const out: string[] = [];
    for (const [device, m] of this.#pending) {
      if (!m.size) continue;
      let min = Number.POSITIVE_INFINITY;
      for (const ts of m.keys()) min = Math.min(min, ts);
      if (min >= recentFrom) minRecent = Math.min(minRecent, min);
      else out.push(`SELECT "temp", "device" FROM "raw"."room" WHERE "device" = '${device}' AND time >= ${min}ms`);
    }
    if (Number.isFinite(minRecent)) out.push(`SELECT "temp", "device" FROM "raw"."room" WHERE time >= ${minRecent}ms`);
    return out;
  }

  /**
   * Wait until influxd holds every acknowledged reading or `deadlineMs` passed; then report
   * the step. Readings that never came are named by stage and not waited for again.
   */
  async settle(step: string, deadlineMs: number, drainMs = 0): Promise<StepReport> {
    const started = performance.now();
    while (this.#pendingCount && performance.now() - started < deadlineMs) await sleep(100);
    const settledMs = Math.round(performance.now() - started);
    const stillPending: string[] = [];
    for (const [device, m] of this.#pending) for (const ts of m.keys()) stillPending.push(readingKey(device, ts));
    let missing: Missing[] = [];
    if (stillPending.length) {
      missing = await locate(stillPending, {
        feed: this.#o.feed,
        tail: this.#tail,
        seqs: this.#seqs,
        brokerDir: this.#o.brokerDir,
        ingestClientId: this.#o.ingestClientId,
      });
      this.#pending.clear();
      this.#pendingCount = 0;
    }
    const lateness: number[] = [];
    const ackDelay: number[] = [];
    let readings = 0;
    for (const e of this.#entries.values()) {
      if (e.step !== step) continue;
      readings++;
      if (e.arrivedAt !== undefined) lateness.push(e.arrivedAt - e.ackAt);
      if (e.publishedAt !== undefined) ackDelay.push(e.ackAt - e.publishedAt);
    }
    const report: StepReport = {
      step,
      readings,
      lateness: spread(lateness),
      late: spread(lateness.filter((l) => l > LATE_AFTER_MS)),
      ackDelay: spread(ackDelay),
      missing,
      settledMs,
      drainMs: Math.round(drainMs),
    };
    if (process.env.CHAOS_REPORT)
      appendFileSync(process.env.CHAOS_REPORT, `${JSON.stringify({ ...report, missing: summarize(missing) })}\n`);
    return report;
  }
}

/** Missing readings grouped by stage: count and a few examples each. */
export function summarize(missing: readonly Missing[]): { stage: string; count: number; examples: string[] }[] {
  const by = new Map<string, string[]>();
  for (const m of missing) by.set(m.stage, [...(by.get(m.stage) ?? []), m.key]);
  return [...by].map(([stage, keys]) => ({ stage, count: keys.length, examples: keys.slice(0, 3) }));
}

/** One line for a step (`missing`: how many never arrived). */
export function formatReport(r: Omit<StepReport, 'missing'>, missing: number): string {
  const l = r.lateness;
  return (
    `chaos ${r.step}: ${r.readings} acknowledged; PUBACK→stored p50 ${l.p50} / p99 ${l.p99} / max ${l.max} ms; ` +
    `${r.late.n} late (>${LATE_AFTER_MS / 1000} s)${r.late.n ? `: p50 ${r.late.p50} / p99 ${r.late.p99} / max ${r.late.max} ms` : ''}; ` +
    `${missing} missing; drained in ${r.drainMs} ms, stored ${r.settledMs} ms later; publish→PUBACK p99 ${r.ackDelay.p99} / max ${r.ackDelay.max} ms`
  );
}
