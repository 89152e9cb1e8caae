import { describe, expect, it } from 'vitest';
import { RunSeries } from './replay.series.ts';

const MIN = 60_000;

describe('replay station series', () => {
  it('averages each field per bucket, in event-time order', () => {
    const s = new RunSeries({ bucketMs: 10 * MIN, maxBuckets: 100, maxStations: 10 });
    s.add('st-1', 0, { pumpHz: 40, secondarySupplyTemp: 50 });
    s.add('st-1', 5 * MIN, { pumpHz: 42 });
    s.add('st-1', 12 * MIN, { pumpHz: 0 });
    const got = s.of('st-1')!;
    expect(got.bucketMs).toBe(10 * MIN);
    expect(got.fields.pumpHz).toEqual([
      { ts: 0, value: 41 },
      { ts: 10 * MIN, value: 0 },
    ]);
    expect(got.fields.secondarySupplyTemp).toEqual([{ ts: 0, value: 50 }]);
    expect(s.of('st-2')).toBeUndefined();
  });

  it('keeps the whole span of a long recording at a coarser step instead of growing without bound', () => {
    const s = new RunSeries({ bucketMs: 10 * MIN, maxBuckets: 8, maxStations: 10 });
    for (let k = 0; k < 64; k++) s.add('st-1', k * 10 * MIN, { pumpHz: k < 32 ? 40 : 0 });
    const got = s.of('st-1')!;
    expect(got.fields.pumpHz!.length).toBeLessThanOrEqual(8);
    expect(got.fields.pumpHz![0]!.ts).toBe(0);
    expect(got.fields.pumpHz!.at(-1)!.ts).toBeGreaterThanOrEqual(63 * 10 * MIN - got.bucketMs);
    // Means survive merging: the first half ran at 40 Hz, the second stood still.
    expect(got.fields.pumpHz![0]!.value).toBe(40);
    expect(got.fields.pumpHz!.at(-1)!.value).toBe(0);
  });

  it('keeps series for at most maxStations stations per run', () => {
    const s = new RunSeries({ bucketMs: 10 * MIN, maxBuckets: 8, maxStations: 2 });
    for (const id of ['a', 'b', 'c']) s.add(id, 0, { pumpHz: 1 });
    expect(s.of('a')).toBeDefined();
    expect(s.of('b')).toBeDefined();
    expect(s.of('c')).toBeUndefined();
  });
});
