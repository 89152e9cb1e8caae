/**
 * Fixtures of the spool specs (storage/spool): a fresh data dir for each test, the
 * telemetry item numbered `i`, and a data dir's segment files in order. Not used by running code.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

export const spoolItem = (i: number) => ({
  topic: `heat/v1/devices/d${i}/telemetry`,
  payload: Buffer.from(`{"ts":${i},"temp":20}`),
  at: 1000 + i,
});

export const segmentFiles = (dataDir: string): string[] =>
  readdirSync(join(dataDir, 'spool'))
    .filter((f) => f.endsWith('.seg'))
    .sort();

/** A new temporary data dir before each test of the calling suite (`.path`), removed after it. */
export function freshDirEach(prefix: string): { readonly path: string } {
  const dir = { path: '' };
  beforeEach(() => {
    dir.path = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => rmSync(dir.path, { recursive: true, force: true }));
  return dir;
}
