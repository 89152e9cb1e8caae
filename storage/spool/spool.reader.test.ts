import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMarker } from './spool.format.ts';
import { SpoolReader } from './spool.reader.ts';
import { SpoolRepository } from './spool.repository.ts';
import { freshDirEach, segmentFiles, spoolItem } from './spool.testing.ts';

describe('SpoolReader (spool mode: the writer is another process)', () => {
  const tmp = freshDirEach('spool-reader-');

  it('reads committed entries in order, as they are committed, with topic, payload and arrival time', async () => {
    const w = SpoolRepository.open(tmp.path, 'full', { sharedWithReader: true });
    const r = SpoolReader.open(tmp.path);
    expect(r.read(100)).toEqual([]);
    await w.append([spoolItem(1), spoolItem(2)]);
    const a = r.read(100);
    expect(a.map((e) => [e.seq, e.topic, e.payload.toString(), e.at])).toEqual([
      [1, spoolItem(1).topic, spoolItem(1).payload.toString(), spoolItem(1).at],
      [2, spoolItem(2).topic, spoolItem(2).payload.toString(), spoolItem(2).at],
    ]);
    await w.append([spoolItem(3), spoolItem(4), spoolItem(5)]);
    expect(r.read(2).map((e) => e.seq)).toEqual([3, 4]);
    expect(r.read(100).map((e) => e.seq)).toEqual([5]);
    expect(r.read(100)).toEqual([]);
    await w.close();
    r.close();
  });

  it('with views, the payloads are views into its read buffer, never spanning two reads of it', async () => {
    const w = SpoolRepository.open(tmp.path, 'full', { sharedWithReader: true });
    await w.append([spoolItem(1), spoolItem(2), spoolItem(3)]);
    const r = SpoolReader.open(tmp.path);
    const a = r.read(2, Number.POSITIVE_INFINITY, true);
    expect(a.map((e) => [e.seq, e.payload.toString()])).toEqual([
      [1, spoolItem(1).payload.toString()],
      [2, spoolItem(2).payload.toString()],
    ]);
    expect(a[0]!.payload.buffer).toBe(a[1]!.payload.buffer); // the reader's 1 MB buffer, no copies
    expect(a[0]!.payload.buffer.byteLength).toBeGreaterThanOrEqual(1 << 20);
    const b = r.read(100, Number.POSITIVE_INFINITY, true);
    expect(b.map((e) => [e.seq, e.payload.toString()])).toEqual([[3, spoolItem(3).payload.toString()]]);
    // Without views: copies of their own (small ones from Buffer's pool).
    const again = SpoolReader.open(tmp.path);
    const c = again.read(100);
    expect(c.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(c[0]!.payload.buffer.byteLength).toBeLessThan(1 << 20);
    again.close();
    r.close();
    await w.close();
  });

  it('never reads past the committed marker (bytes a write has not finished, or a failed one left)', async () => {
    const w = SpoolRepository.open(tmp.path, 'full', { sharedWithReader: true });
    await w.append([spoolItem(1)]);
    await w.close();
    // A complete, valid record the writer never confirmed (a batch whose fdatasync failed).
    const stray = SpoolRepository.open(join(tmp.path, 'other'), 'normal');
    await stray.append([spoolItem(2)]);
    await stray.close();
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(join(tmp.path, 'other', 'spool', segmentFiles(join(tmp.path, 'other'))[0]!));
    appendFileSync(join(tmp.path, 'spool', segmentFiles(tmp.path)[0]!), bytes);
    const r = SpoolReader.open(tmp.path);
    expect(r.read(100).map((e) => e.seq)).toEqual([1]);
    r.close();
  });

  it('follows the writer into the segment it opens after a restart, and resumes after the trimmed mark', async () => {
    let w = SpoolRepository.open(tmp.path, 'full', { sharedWithReader: true });
    await w.append([spoolItem(1), spoolItem(2)]);
    await w.close();
    w = SpoolRepository.open(tmp.path, 'full', { sharedWithReader: true }); // restart: appends to a new segment
    await w.append([spoolItem(3)]);
    expect(segmentFiles(tmp.path)).toHaveLength(2);
    const r = SpoolReader.open(tmp.path);
    expect(r.read(100).map((e) => e.seq)).toEqual([1, 2, 3]);
    r.markStored(3);
    r.trimThrough(2);
    // The older segment is gone (everything in it trimmed), the writer's is kept.
    expect(segmentFiles(tmp.path)).toHaveLength(1);
    r.close();
    w.refreshMarks();
    expect(w.unstored()).toBe(0);
    await w.append([spoolItem(4)]);
    const again = SpoolReader.open(tmp.path);
    expect(again.storedThrough()).toBe(3);
    // Resumes after the trimmed mark: 3 (stored, kept for the rules) and 4.
    expect(again.read(100).map((e) => e.seq)).toEqual([3, 4]);
    again.close();
    await w.close();
  });

  it('with markEveryMs, writes the marks at most that often: the newest value after the interval and at close, segments deleted only after the trimmed file', async () => {
    let w = SpoolRepository.open(tmp.path, 'full', { sharedWithReader: true });
    await w.append([spoolItem(1), spoolItem(2)]);
    await w.close();
    w = SpoolRepository.open(tmp.path, 'full', { sharedWithReader: true }); // a second segment
    await w.append([spoolItem(3), spoolItem(4)]);
    const dir = join(tmp.path, 'spool');
    const r = SpoolReader.open(tmp.path, { markEveryMs: 300 });
    expect(r.read(100).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    r.markStored(1); // the first move is written at once
    expect(readMarker(dir, 'stored')).toBe(1);
    r.markStored(2);
    r.trimThrough(2);
    r.markStored(3);
    // Moved in memory, not yet on disk: the older segment stays until the trimmed file says 2.
    expect(r.storedThrough()).toBe(3);
    expect([readMarker(dir, 'stored'), readMarker(dir, 'trimmed')]).toEqual([1, 0]);
    expect(segmentFiles(tmp.path)).toHaveLength(2);
    await new Promise((res) => setTimeout(res, 600)); // the trailing write, 300 ms after the first
    expect(readMarker(dir, 'trimmed')).toBe(2);
    expect(readMarker(dir, 'stored')).toBe(3);
    expect(segmentFiles(tmp.path)).toHaveLength(1);
    r.markStored(4);
    r.close(); // the last move reaches its file at close
    expect(readMarker(dir, 'stored')).toBe(4);
    await w.close();
  });

  it('refuses a second writer while the first one lives (broker in spool mode + ingest in MQTT mode), takes over from a dead one', async () => {
    mkdirSync(join(tmp.path, 'spool'), { recursive: true });
    writeFileSync(join(tmp.path, 'spool', 'writer.pid'), String(process.ppid)); // a live process, not this one
    expect(() => SpoolRepository.open(tmp.path)).toThrow(/written by process .* same INGEST_FEED/);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // exited
    writeFileSync(join(tmp.path, 'spool', 'writer.pid'), String(dead));
    const w = SpoolRepository.open(tmp.path);
    await w.append([spoolItem(1)]);
    await w.close();
  });
});
