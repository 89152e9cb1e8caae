import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpoolRepository } from './spool.repository.ts';

const item = (i: number) => ({ topic: `heat/v1/devices/d${i}/telemetry`, payload: Buffer.from(`{"ts":${i},"temp":20}`), at: 1000 + i });

describe('SpoolRepository (append-only segment files)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('numbers entries in order and gives back what was not trimmed after a restart', async () => {
    const s = SpoolRepository.open(dir);
    const a = await s.append([item(1), item(2)]);
    const b = await s.append([item(3)]);
    expect([...a, ...b].map((e) => e.seq)).toEqual([1, 2, 3]);
    s.trimThrough(1);
    expect(s.count()).toBe(2);
    await s.close();
    const again = SpoolRepository.open(dir);
    const left = again.all();
    expect(left.map((e) => [e.seq, e.topic, e.payload.toString(), e.at])).toEqual([
      [2, item(2).topic, item(2).payload.toString(), item(2).at],
      [3, item(3).topic, item(3).payload.toString(), item(3).at],
    ]);
    // New entries continue after the old ones.
    expect((await again.append([item(4)]))[0]!.seq).toBe(4);
    await again.close();
  });

  it('cuts a torn record at the tail (crash mid-write) and keeps everything before it', async () => {
    const s = SpoolRepository.open(dir);
    await s.append([item(1), item(2)]);
    await s.close();
    const seg = readdirSync(join(dir, 'spool')).find((f) => f.endsWith('.seg'))!;
    appendFileSync(join(dir, 'spool', seg), Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 5]));
    expect(SpoolRepository.pending(dir)).toBe(2);
    const again = SpoolRepository.open(dir);
    expect(again.all().map((e) => e.seq)).toEqual([1, 2]);
    expect((await again.append([item(3)]))[0]!.seq).toBe(3);
    await again.close();
    expect(
      SpoolRepository.open(dir)
        .all()
        .map((e) => e.seq),
    ).toEqual([1, 2, 3]);
  });

  it('deletes fully trimmed segments', async () => {
    const s = SpoolRepository.open(dir, 'normal');
    await s.append([item(1)]);
    await s.close();
    const t = SpoolRepository.open(dir, 'normal');
    await t.append([item(2)]); // a new segment after a restart
    t.trimThrough(2);
    expect(readdirSync(join(dir, 'spool')).filter((f) => f.endsWith('.seg'))).toHaveLength(1);
    expect(t.count()).toBe(0);
    await t.close();
    expect(SpoolRepository.open(dir).all()).toEqual([]);
  });

  it('keeps stored entries until trimmed: pending counts only what is not in the store, across a restart', async () => {
    const s = SpoolRepository.open(dir);
    await s.append([item(1), item(2), item(3)]);
    s.markStored(2); // stored, kept for the rules
    expect(SpoolRepository.pending(dir)).toBe(1);
    await s.close();
    const again = SpoolRepository.open(dir);
    expect(again.storedThrough()).toBe(2);
    expect(again.all().map((e) => e.seq)).toEqual([1, 2, 3]);
    again.trimThrough(3);
    expect(again.storedThrough()).toBe(3);
    expect(SpoolRepository.pending(dir)).toBe(0);
    await again.close();
  });
});
