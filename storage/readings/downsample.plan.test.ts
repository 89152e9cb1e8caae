/** The stitch rule: which part of a history range is read from hourly aggregates, which from raw. */
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../domain/clock.ts';
import {
  CQ_GRACE_MS,
  chunks,
  hourSpan,
  hourlyWindow,
  lateBefore,
  mergePartials,
  normOffset,
  planHistory,
  sealedBefore,
  windowStart,
} from './downsample.plan.ts';

const D = Date.UTC(2025, 11, 1);

describe('planHistory', () => {
  const now = D + 10 * DAY_MS + 35 * MINUTE_MS; // 35 min into an hour

  it('seals every hour before the previous one (the CQ recomputes the last two)', () => {
    expect(sealedBefore(now)).toBe(D + 10 * DAY_MS - HOUR_MS);
    // While the CQ at the boundary runs, the hour it finishes is not sealed yet …
    expect(sealedBefore(D + 10 * DAY_MS + CQ_GRACE_MS - 1)).toBe(D + 10 * DAY_MS - 2 * HOUR_MS);
    expect(sealedBefore(D + 10 * DAY_MS + CQ_GRACE_MS)).toBe(D + 10 * DAY_MS - HOUR_MS);
    // … but a reading for it written after the boundary is late: no later run covers it.
    expect(lateBefore(D + 10 * DAY_MS)).toBe(D + 10 * DAY_MS - HOUR_MS);
    expect(lateBefore(D + 10 * DAY_MS - 1)).toBe(D + 10 * DAY_MS - 2 * HOUR_MS);
  });

  it('uses hourly aggregates only for windows of whole hours', () => {
    expect([MINUTE_MS, 15 * MINUTE_MS, 90 * MINUTE_MS].map((w) => hourlyWindow(w))).toEqual([false, false, false]);
    expect([HOUR_MS, 6 * HOUR_MS, DAY_MS].map((w) => hourlyWindow(w))).toEqual([true, true, true]);
    expect(planHistory(D, now, 15 * MINUTE_MS, now)).toEqual({ raw: [{ from: D, to: now }] });
  });

  it('reads sealed hours downsampled, the unaligned head and the recent tail raw', () => {
    const from = D + 25 * MINUTE_MS;
    expect(planHistory(from, now + HOUR_MS, DAY_MS, now)).toEqual({
      raw: [
        { from, to: D + HOUR_MS },
        { from: D + 10 * DAY_MS - HOUR_MS, to: now + HOUR_MS },
      ],
      hourly: { from: D + HOUR_MS, to: D + 10 * DAY_MS - HOUR_MS },
    });
    // Aligned and wholly sealed: no raw part at all.
    expect(planHistory(D, D + 5 * DAY_MS, DAY_MS, now)).toEqual({ raw: [], hourly: { from: D, to: D + 5 * DAY_MS } });
  });

  it('reads raw when no whole sealed hour is in range', () => {
    expect(planHistory(now - HOUR_MS, now, HOUR_MS, now)).toEqual({ raw: [{ from: now - HOUR_MS, to: now }] });
    expect(planHistory(D + 10 * MINUTE_MS, D + 50 * MINUTE_MS, HOUR_MS, now)).toEqual({
      raw: [{ from: D + 10 * MINUTE_MS, to: D + 50 * MINUTE_MS }],
    });
  });
});

describe('mergePartials', () => {
  it('mean is Σsum / Σcount over the parts, not a mean of means', () => {
    // One hour of 6 readings averaging 20, one raw part of 2 readings averaging 10.
    expect(
      mergePartials('mean', [
        { ts: D, sum: 120, count: 6 },
        { ts: D, sum: 20, count: 2 },
      ]),
    ).toEqual([{ ts: D, value: 17.5 }]);
  });

  it('min of mins, max of maxes, windows in time order, empty windows left out', () => {
    const parts = [
      { ts: D + DAY_MS, min: 3, max: 9 },
      { ts: D, min: 5, max: 7 },
      { ts: D + DAY_MS, min: 1, max: 12 },
      { ts: D + 2 * DAY_MS, min: null, max: null },
    ];
    expect(mergePartials('min', parts)).toEqual([
      { ts: D, value: 5 },
      { ts: D + DAY_MS, value: 1 },
    ]);
    expect(mergePartials('max', parts)).toEqual([
      { ts: D, value: 7 },
      { ts: D + DAY_MS, value: 12 },
    ]);
    expect(mergePartials('mean', [{ ts: D, sum: null, count: 0 }])).toEqual([]);
  });
});

describe('window offset (local days)', () => {
  it('normalises into [0, window) and floors also before the offset', () => {
    expect(normOffset(-8 * HOUR_MS, DAY_MS)).toBe(16 * HOUR_MS);
    expect(normOffset(undefined, DAY_MS)).toBe(0);
    expect(windowStart(D + 3 * HOUR_MS, DAY_MS, 16 * HOUR_MS)).toBe(D - 8 * HOUR_MS);
    expect(windowStart(D + 17 * HOUR_MS, DAY_MS, 16 * HOUR_MS)).toBe(D + 16 * HOUR_MS);
    expect(windowStart(5, 10, 7)).toBe(-3);
  });

  it('whole-hour offsets keep the hourly series, others read raw', () => {
    expect(hourlyWindow(DAY_MS, 16 * HOUR_MS)).toBe(true);
    expect(hourlyWindow(DAY_MS, 30 * MINUTE_MS)).toBe(false);
    expect(planHistory(D, D + 5 * DAY_MS, DAY_MS, D + 9 * DAY_MS, 30 * MINUTE_MS)).toEqual({ raw: [{ from: D, to: D + 5 * DAY_MS }] });
  });
});

describe('spans', () => {
  it('widens to whole hours and chunks by a step', () => {
    expect(hourSpan(D + 5 * MINUTE_MS, D + 65 * MINUTE_MS)).toEqual({ from: D, to: D + 2 * HOUR_MS });
    expect(chunks({ from: D, to: D + 2.5 * DAY_MS }, DAY_MS)).toEqual([
      { from: D, to: D + DAY_MS },
      { from: D + DAY_MS, to: D + 2 * DAY_MS },
      { from: D + 2 * DAY_MS, to: D + 2.5 * DAY_MS },
    ]);
  });
});
