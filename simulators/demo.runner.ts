/**
 * Runs the demo day (demo.day.ts) on a live platform:
 *  - a fresh demo first lives its morning: the demo clock (demo.clock.ts) is driven from the
 *    day's anchor to the wall clock in small steps while the fleet publishes each step through
 *    the real broker and ingest, waiting for the ingest to hand every reading to the rules
 *    before the next step — so the rules see the same stream, in the same event-time order,
 *    as if the morning had been lived in real time (their time-outs are ≥ 30 min; a step is 5);
 *  - the day repeats: the next days' faults are injected ahead of time, and each day's
 *    planned outage is announced through the API once (recorded in DATA_DIR).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { MINUTE_MS, type Clock } from '../domain/clock.ts';
import type { OutageBody } from '../domain/api.schema.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import { DEMO_DAY, demoDayFaults, demoDayOutage, type DemoPicks } from './demo.day.ts';
import type { DemoClock } from './demo.clock.ts';
import type { Fleet, FleetLogger } from './fleet.ts';
import type { FaultSpec } from './thermal.model.ts';

export interface DemoDayState {
  /** Start of the first demo day, epoch ms. */
  readonly anchorTs: number;
  /** Days whose planned outage was announced. */
  readonly announced: readonly number[];
}

/** The day's anchor and history, kept in DATA_DIR so a restart continues the same days. */
export function loadDemoDayState(file: string, fresh: boolean, now: number): DemoDayState {
  if (!fresh && existsSync(file)) {
    try {
      const s = JSON.parse(readFileSync(file, 'utf8')) as DemoDayState;
      if (Number.isFinite(s.anchorTs) && Array.isArray(s.announced)) return s;
    } catch {
      // Unreadable: start a new day below.
    }
  }
  // A fresh demo opens at the end of its pre-rolled morning; an older data dir starts its day now.
  return { anchorTs: fresh ? now - DEMO_DAY.prerollMs : now, announced: [] };
}

/** Every fault of the days from the first through the one containing `untilTs`. */
export function demoFaultsThrough(picks: DemoPicks, anchorTs: number, untilTs: number): { faults: FaultSpec[]; lastCycle: number } {
  const lastCycle = Math.max(0, Math.floor((untilTs - anchorTs) / DEMO_DAY.cycleMs));
  const faults: FaultSpec[] = [];
  for (let c = 0; c <= lastCycle; c++) faults.push(...demoDayFaults(picks, anchorTs, c));
  return { faults, lastCycle };
}

export interface DemoDayOptions {
  readonly picks: DemoPicks;
  readonly policy: HeatingPolicy;
  readonly state: DemoDayState;
  readonly stateFile: string;
  readonly clock: Clock;
  /** Present on a fresh demo: driven through the morning, then released. */
  readonly prerollClock?: DemoClock;
  readonly fleet: Fleet;
  /** Faults already in the fleet's model, through this day. */
  readonly injectedThroughCycle: number;
  /** Readings the ingest has stored or rejected so far (its metrics). */
  readonly processed: () => number;
  /** Announce a planned outage through the API, as a dispatcher would. */
  readonly announceOutage: (body: OutageBody) => Promise<void>;
  readonly logger?: FleetLogger;
  /** Pre-roll step of the demo clock. Default 5 min (well under the rules' 30 min time-outs). */
  readonly stepMs?: number;
}

export interface DemoDay {
  /** Resolves when the morning is lived and the clock reads the wall clock. */
  readonly ready: Promise<void>;
  stop(): void;
}

export function runDemoDay(opts: DemoDayOptions): DemoDay {
  const { picks, fleet, clock, logger: log } = opts;
  let announced = new Set(opts.state.announced);
  let injected = opts.injectedThroughCycle;
  let stopped = false;

  const save = () =>
    writeFileSync(opts.stateFile, JSON.stringify({ anchorTs: opts.state.anchorTs, announced: [...announced].sort((a, b) => a - b) }));
  const cycleAt = (ts: number) => Math.floor((ts - opts.state.anchorTs) / DEMO_DAY.cycleMs);

  /** Announce today's outage (once per day) and put tomorrow's faults into the model. */
  const upkeep = async (): Promise<void> => {
    const now = clock.now();
    const today = cycleAt(now);
    while (injected < today + 1) {
      injected++;
      for (const f of demoDayFaults(picks, opts.state.anchorTs, injected)) fleet.injectFault(f);
    }
    if (!announced.has(today)) {
      const body = demoDayOutage(picks, now, opts.policy);
      try {
        await opts.announceOutage(body);
        announced = new Set([...announced, today]);
        save();
        log?.info({ buildingId: body.scopeId, startsAt: new Date(body.startsAt).toISOString() }, 'demo: planned outage announced (N9)');
      } catch (err) {
        log?.warn({ err: String(err) }, 'demo: outage announcement failed');
      }
    }
  };

  const waitProcessed = async (): Promise<void> => {
    const want = fleet.stats().published;
    const deadline = Date.now() + 30_000;
    while (!stopped && opts.processed() < want) {
      if (Date.now() > deadline) {
        log?.warn({ want, processed: opts.processed() }, 'demo pre-roll: ingest lagging; going on');
        return;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const preroll = async (): Promise<void> => {
    const dc = opts.prerollClock;
    if (!dc?.driven) return;
    await fleet.ready;
    const wall0 = Date.now();
    const from = dc.now();
    log?.info(
      { from: new Date(from).toISOString(), hours: (Date.now() - from) / 3_600_000 },
      'demo: living the morning before the dashboard opens',
    );
    await upkeep();
    const step = opts.stepMs ?? 5 * MINUTE_MS;
    while (!stopped && dc.driven) {
      // Clock first: the ingest refuses readings stamped ahead of it (validation.maxFutureSkewMin).
      dc.set(dc.now() + step); // releases itself on reaching the wall clock
      await fleet.advanceTo(clock.now());
      await waitProcessed();
    }
    log?.info({ wallMs: Date.now() - wall0, readings: fleet.stats().published }, 'demo: morning lived; the clock is the wall clock now');
  };

  const ready = preroll().finally(() => opts.prerollClock?.release());
  // Day rollover: checked every minute of wall time (cheap; the work happens once a day).
  const timer = setInterval(() => void ready.then(upkeep), MINUTE_MS);
  timer.unref?.();
  void ready.then(upkeep);
  return {
    ready,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
