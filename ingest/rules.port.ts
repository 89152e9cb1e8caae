/**
 * What the ingest needs from the rules engine (domain/rules/engine.ts). A port, so the ingest
 * is tested without the engine and the engine without MQTT.
 */
import type { IncidentEvent } from '../domain/incident.schema.ts';
import type { Reading } from '../domain/reading.ts';

export interface RulesPort {
  /** Feed one reading; readings of one device arrive in event-time order. */
  ingest(reading: Reading): readonly IncidentEvent[];
  /** Advance event time (time-outs: offline sensors, silent stations). */
  advanceTo(ts: number): readonly IncidentEvent[];
  /** JSON-serialisable state, restored with RulesEngine.restore at the next start. */
  snapshot(): unknown;
}
