import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpoolRepository } from './spool.repository.ts';
import { freshDirEach, segmentFiles, spoolItem } from './spool.testing.ts';

describe('SpoolRepository (append-only segment files)', () => {
  const tmp = freshDirEach('spool-');

  it('numbers entries in order and gives back what was not trimmed after a restart', async () => {
    const s = SpoolRepository.open(tmp.path);
    const a = await s.append([spoolItem(1), spoolItem(2)]);
    const b = await s.append([spoolItem(3)]);
    expect([...a, ...b].map((e) => e.seq)).toEqual([1, 2, 3]);
    s.trimThrough(1);
    expect(s.count()).toBe(2);
    await s.close();
    const again = SpoolRepository.open(tmp.path);
    const left = again.all();
    expect(left.map((e) => [e.seq, e.topic, e.payload.toString(), e.at])).toEqual([
      [2, spoolItem(2).topic, spoolItem(2).payload.toString(), spoolItem(2).at],
      [3, spoolItem(3).topic, spoolItem(3).payload.toString(), spoolItem(3).at],
    ]);
    // New entries continue after the old ones.
    expect((await again.append([spoolItem(4)]))[0]!.seq).toBe(4);
    await again.close();
  });

  it('cuts a torn record at the tail (crash mid-write) and keeps everything before it', async () => {
    const s = SpoolRepository.open(tmp.path);
    await s.append([spoolItem(1), spoolItem(2)]);
    await s.close();
    const seg = segmentFiles(tmp.path)[0]!;
    appendFileSync(join(tmp.path, 'spool', seg), Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 5]));
    expect(SpoolRepository.pending(tmp.path)).toBe(2);
    const again = SpoolRepository.open(tmp.path);
    expect(again.all().map((e) => e.seq)).toEqual([1, 2]);
    expect((await again.append([spoolItem(3)]))[0]!.seq).toBe(3);
    await again.close();
    expect(
      SpoolRepository.open(tmp.path)
        .all()
        .map((e) => e.seq),
    ).toEqual([1, 2, 3]);
  });

  it('deletes fully trimmed segments', async () => {
    const s = SpoolRepository.open(tmp.path, 'normal');
    await s.append([spoolItem(1)]);
    await s.close();
    const t = SpoolRepository.open(tmp.path, 'normal');
    await t.append([spoolItem(2)]); // a new segment after a restart
    t.trimThrough(2);
    expect(segmentFiles(tmp.path)).toHaveLength(1);
    expect(t.count()).toBe(0);
    await t.close();
    expect(SpoolRepository.open(tmp.path).all()).toEqual([]);
  });

  it('keeps stored entries until trimmed: pending counts only what is not in the store, across a restart', async () => {
    const s = SpoolRepository.open(tmp.path);
    await s.append([spoolItem(1), spoolItem(2), spoolItem(3)]);
    s.markStored(2); // stored, kept for the rules
    expect(SpoolRepository.pending(tmp.path)).toBe(1);
    await s.close();
    const again = SpoolRepository.open(tmp.path);
    expect(again.storedThrough()).toBe(2);
    expect(again.all().map((e) => e.seq)).toEqual([1, 2, 3]);
    again.trimThrough(3);
    expect(again.storedThrough()).toBe(3);
    expect(SpoolRepository.pending(tmp.path)).toBe(0);
    await again.close();
  });
});
