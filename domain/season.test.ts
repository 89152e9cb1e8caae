/** N1 season boundaries and local-day arithmetic at the city's UTC offset. */
import { describe, expect, it } from 'vitest';
import { HOUR_MS } from './clock.ts';
import { defaultPolicy, policyForCity } from './policy.ts';
import { SeasonCalendar, dateToDayIndex, dayIndexToDate, inSeason, localDate, localDayIndex, localDayStart } from './season.ts';

/** Local midnight of a Beijing date (UTC+8). */
const local = (date: string) => Date.parse(`${date}T00:00:00+08:00`);

describe('local days', () => {
  it('a day starts at local midnight, not UTC midnight', () => {
    const ts = local('2026-12-10');
    expect(localDate(ts, defaultPolicy)).toBe('2026-12-10');
    expect(localDate(ts - 1, defaultPolicy)).toBe('2026-12-09');
    expect(localDayStart(localDayIndex(ts + 5 * HOUR_MS, defaultPolicy), defaultPolicy)).toBe(ts);
  });

  it('date ↔ day index round-trips; malformed dates give NaN', () => {
    const d = dateToDayIndex('2027-03-20');
    expect(dayIndexToDate(d)).toBe('2027-03-20');
    expect(dateToDayIndex('20-03-2027')).toBeNaN();
  });
});

describe('heating season (N1)', () => {
  it('15 Nov – 20 Mar inclusive, across the new year', () => {
    expect(defaultPolicy.season.start).toEqual({ month: 11, day: 15 });
    expect(inSeason(local('2026-11-15'), defaultPolicy)).toBe(true);
    expect(inSeason(local('2026-11-15') - 1, defaultPolicy)).toBe(false); // 14 Nov 23:59:59.999 local
    expect(inSeason(local('2027-01-01'), defaultPolicy)).toBe(true);
    expect(inSeason(local('2027-03-20') + 23 * HOUR_MS, defaultPolicy)).toBe(true);
    expect(inSeason(local('2027-03-21'), defaultPolicy)).toBe(false);
    expect(inSeason(local('2026-07-01'), defaultPolicy)).toBe(false);
  });

  it('one-off extensions by decree count, inclusive', () => {
    const p = policyForCity('beijing', {
      season: {
        start: { month: 11, day: 15 },
        end: { month: 3, day: 20 },
        extensions: [{ from: '2026-11-08', to: '2026-11-14', reason: 'cold snap' }],
      },
    });
    expect(inSeason(local('2026-11-07'), p)).toBe(false);
    expect(inSeason(local('2026-11-08'), p)).toBe(true);
    expect(inSeason(local('2026-11-14'), p)).toBe(true);
  });

  it('a city with its own decree season (Harbin 20 Oct – 20 Apr)', () => {
    const harbin = policyForCity('harbin');
    expect(inSeason(local('2026-10-20'), harbin)).toBe(true);
    expect(inSeason(local('2026-10-19'), harbin)).toBe(false);
    expect(inSeason(local('2027-04-20'), harbin)).toBe(true);
  });

  it('the memoised calendar agrees with inSeason', () => {
    const cal = new SeasonCalendar(defaultPolicy);
    for (let d = 0; d < 400; d++) {
      const ts = local('2026-06-01') + d * 24 * HOUR_MS + 7 * HOUR_MS;
      expect(cal.inSeason(ts)).toBe(inSeason(ts, defaultPolicy));
    }
  });
});
