import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../../domain/policy.ts';
import { clusterPoints, healthOf, worst, type HealthFacts } from './health.ts';

const base: HealthFacts = { stationIncidents: 0, homeIncidents: 0, coldApartments: 0, monitoredApartments: 10, hasData: true };

describe('station health', () => {
  it('is an alarm with an open station incident, whatever the apartments say', () => {
    expect(healthOf({ ...base, stationIncidents: 1 })).toBe('alarm');
  });

  it('is an alarm once the cold share reaches the station grouping share', () => {
    const share = defaultPolicy.grouping.stationColdShare;
    const cold = Math.ceil(share * 10);
    expect(healthOf({ ...base, coldApartments: cold, alarmColdShare: share, minMonitored: defaultPolicy.grouping.minMonitored })).toBe(
      'alarm',
    );
    expect(healthOf({ ...base, coldApartments: cold - 1, alarmColdShare: share, minMonitored: defaultPolicy.grouping.minMonitored })).toBe(
      'watch',
    );
  });

  it('ignores the share below the minimum monitored apartments', () => {
    const min = defaultPolicy.grouping.minMonitored;
    expect(
      healthOf({
        ...base,
        monitoredApartments: min - 1,
        coldApartments: min - 1,
        alarmColdShare: defaultPolicy.grouping.stationColdShare,
        minMonitored: min,
      }),
    ).toBe('watch');
  });

  it('is watch with cold homes, ok with data and none, unknown without data', () => {
    expect(healthOf({ ...base, homeIncidents: 2 })).toBe('watch');
    expect(healthOf(base)).toBe('ok');
    expect(healthOf({ ...base, hasData: false })).toBe('unknown');
  });

  it('orders levels worst first', () => {
    expect(worst('ok', 'alarm')).toBe('alarm');
    expect(worst('watch', 'unknown')).toBe('watch');
    expect(worst('unknown', 'ok')).toBe('ok');
  });
});

describe('clusterPoints', () => {
  it('merges points of one cell into one marker with the worst colour and the centroid', () => {
    const c = clusterPoints(
      [
        { id: 'a', x: 1, y: 1, level: 'ok' },
        { id: 'b', x: 9, y: 9, level: 'alarm' },
        { id: 'c', x: 50, y: 50, level: 'watch' },
      ],
      40,
    );
    expect(c).toHaveLength(2);
    const first = c.find((x) => x.count === 2)!;
    expect(first.level).toBe('alarm');
    expect(first.x).toBe(5);
    expect(first.counts).toMatchObject({ ok: 1, alarm: 1 });
    expect(c.find((x) => x.count === 1)!.ids).toEqual(['c']);
  });
});
