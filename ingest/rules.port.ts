/**
 * What the ingest needs from the rules engine (domain/rules/engine.ts). A port, so the ingest
 * is tested without the engine and the engine without MQTT.
 */
import type { IncidentEvent } from '../domain/incident.schema.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import type { Reading } from '../domain/reading.ts';
import { RulesEngine } from '../domain/rules/engine.ts';
import type { City } from '../domain/topology.schema.ts';

export interface RulesPort {
  /** Feed one reading; readings of one device arrive in event-time order. */
  ingest(reading: Reading): readonly IncidentEvent[];
  /** Advance event time (time-outs: offline sensors, silent stations). */
  advanceTo(ts: number): readonly IncidentEvent[];
  /** JSON-serialisable state, restored with RulesEngine.restore at the next start. */
  snapshot(): unknown;
  /** The registry changed: take the new topology now (state kept by id). Returns what that closed. */
  topologyChanged?(): readonly IncidentEvent[];
}

/**
 * The engine behind the port, on a live topology: `topologyChanged()` reads the registry and
 * moves the engine's state onto the new city (RulesEngine.withTopology). Used by start.ts and
 * ingest/server.ts, which pass the registry they opened.
 */
export function liveRules(opts: {
  readonly city: () => City;
  readonly policy: HeatingPolicy;
  /** A snapshot as read from disk (RulesSnapshotRepository); RulesEngine.restore checks and migrates it, or throws. */
  readonly snapshot?: unknown;
}): RulesPort & { readonly engine: () => RulesEngine } {
  let engine =
    opts.snapshot !== undefined
      ? RulesEngine.restore(opts.snapshot, { city: opts.city(), policy: opts.policy })
      : new RulesEngine({ city: opts.city(), policy: opts.policy });
  return {
    engine: () => engine,
    ingest: (r) => engine.ingest(r),
    advanceTo: (ts) => engine.advanceTo(ts),
    snapshot: () => engine.snapshot(),
    topologyChanged() {
      const next = engine.withTopology(opts.city());
      engine = next.engine;
      return next.events;
    },
  };
}
