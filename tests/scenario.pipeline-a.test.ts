/**
 * Scenarios through the real pipeline: simulated devices (one MQTT connection each, some
 * behind gateways) → broker (broker/app.ts) → ingest (ingest/app.ts) with the rules engine →
 * incidents on heat/v1/platform/incidents. Each must find exactly its expected incidents.
 * Model time is driven; the ingest's clock follows it, so a day passes in seconds.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../simulators/scenario.ts';
import { runScenario } from '../simulators/scenario.runner.ts';

const dir = join(import.meta.dirname, '..', 'scenarios');

describe('scenarios through broker → ingest → rules (part A)', () => {
  for (const file of ['pump-failure.json', 'leak.json', 'cold-snap.json']) {
    it(file, async () => {
      const r = await runScenario(loadScenario(join(dir, file)), { mode: 'pipeline' });
      expect(r.unexpected, r.text).toEqual([]);
      expect(r.ok, r.text).toBe(true);
      expect(r.readings).toBeGreaterThan(1000);
    });
  }
});
