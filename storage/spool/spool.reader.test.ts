import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpoolReader } from './spool.reader.ts';
import { SpoolRepository } from './spool.repository.ts';

const item = (i: number) => ({ topic: `heat/v1/devices/d${i}/telemetry`, payload: Buffer.from(`{"ts":${i},"temp":20}`), at: 1000 + i });
const segs = (dir: string) =>
  readdirSync(join(dir, 'spool'))
    .filter((f) => f.endsWith('.seg'))
    .sort();

describe('SpoolReader (spool mode: the writer is another process)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-reader-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads committed entries in order, as they are committed, with topic, payload and arrival time', async () => {
    const w = SpoolRepository.open(dir, 'full', { sharedWithReader: true });
    const r = SpoolReader.open(dir);
    expect(r.read(100)).toEqual([]);
    await w.append([item(1), item(2)]);
    const a = r.read(100);
    expect(a.map((e) => [e.seq, e.topic, e.payload.toString(), e.at])).toEqual([
      [1, item(1).topic, item(1).payload.toString(), item(1).at],
      [2, item(2).topic, item(2).payload.toString(), item(2).at],
    ]);
    await w.append([item(3), item(4), item(5)]);
    expect(r.read(2).map((e) => e.seq)).toEqual([3, 4]);
    expect(r.read(100).map((e) => e.seq)).toEqual([5]);
    expect(r.read(100)).toEqual([]);
    await w.close();
    r.close();
  });

  it('never reads past the committed marker (bytes a write has not finished, or a failed one left)', async () => {
    const w = SpoolRepository.open(dir, 'full', { sharedWithReader: true });
    await w.append([item(1)]);
    await w.close();
    // A complete, valid record the writer never confirmed (a batch whose fdatasync failed).
    const stray = SpoolRepository.open(join(dir, 'other'), 'normal');
    await stray.append([item(2)]);
    await stray.close();
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(join(dir, 'other', 'spool', segs(join(dir, 'other'))[0]!));
    appendFileSync(join(dir, 'spool', segs(dir)[0]!), bytes);
    const r = SpoolReader.open(dir);
    expect(r.read(100).map((e) => e.seq)).toEqual([1]);
    r.close();
  });

  it('follows the writer into the segment it opens after a restart, and resumes after the trimmed mark', async () => {
    let w = SpoolRepository.open(dir, 'full', { sharedWithReader: true });
    await w.append([item(1), item(2)]);
    await w.close();
    w = SpoolRepository.open(dir, 'full', { sharedWithReader: true }); // restart: appends to a new segment
    await w.append([item(3)]);
    expect(segs(dir)).toHaveLength(2);
    const r = SpoolReader.open(dir);
    expect(r.read(100).map((e) => e.seq)).toEqual([1, 2, 3]);
    r.markStored(3);
    r.trimThrough(2);
    // The older segment is gone (everything in it trimmed), the writer's is kept.
    expect(segs(dir)).toHaveLength(1);
    r.close();
    w.refreshMarks();
    expect(w.unstored()).toBe(0);
    await w.append([item(4)]);
    const again = SpoolReader.open(dir);
    expect(again.storedThrough()).toBe(3);
    // Resumes after the trimmed mark: 3 (stored, kept for the rules) and 4.
    expect(again.read(100).map((e) => e.seq)).toEqual([3, 4]);
    again.close();
    await w.close();
  });

  it('refuses a second writer while the first one lives (broker in spool mode + ingest in MQTT mode), takes over from a dead one', async () => {
    mkdirSync(join(dir, 'spool'), { recursive: true });
    writeFileSync(join(dir, 'spool', 'writer.pid'), String(process.ppid)); // a live process, not this one
    expect(() => SpoolRepository.open(dir)).toThrow(/written by process .* same INGEST_FEED/);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // exited
    writeFileSync(join(dir, 'spool', 'writer.pid'), String(dead));
    const w = SpoolRepository.open(dir);
    await w.append([item(1)]);
    await w.close();
  });
});
