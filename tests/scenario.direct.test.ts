/**
 * Direct mode: the same scenarios with the model's readings fed straight into the rules
 * engine on a driven clock (no network). Fast, and deterministic to the byte.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../simulators/scenario.ts';
import { runDirect } from '../simulators/scenario.runner.ts';

const dir = join(import.meta.dirname, '..', 'scenarios');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('scenarios, direct mode', () => {
  it('covers the required cases', () => {
    for (const f of ['cold-snap.json', 'pump-failure.json', 'leak.json', 'air-lock.json', 'window-open.json', 'dead-sensor.json'])
      expect(files).toContain(f);
  });
  for (const file of files) {
    it(file, () => {
      const r = runDirect(loadScenario(join(dir, file)));
      expect(r.unexpected, r.text).toEqual([]);
      expect(r.ok, r.text).toBe(true);
    });
  }
  it('gives identical incidents on every run', () => {
    const s = loadScenario(join(dir, 'pump-failure.json'));
    const a = runDirect(s);
    const b = runDirect(s);
    expect(JSON.stringify(b.found)).toBe(JSON.stringify(a.found));
    expect(a.found.length).toBeGreaterThan(10);
  });
});
