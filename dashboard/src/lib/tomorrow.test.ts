import { describe, expect, it } from 'vitest';
import type { ForecastRisk } from './api.ts';
import { riskCounts, stationRisks } from './tomorrow.ts';

const apt = (id: string, probability: number, minC: number) => ({
  apartmentId: id,
  status: 'ready' as const,
  probability,
  minC,
  minAt: 1,
  sigmaC: 0.4,
  fitRmseC: 0.1,
  fitHours: 100,
});
/** A station's forecast over 24 h from 0; `forecastIssuedAt` null: no weather forecast covers it. */
const station = (stationId: string, apartments: ForecastRisk['stations'][number]['apartments'], forecastIssuedAt: number | null = 0) => ({
  stationId,
  origin: 0,
  horizonH: 24,
  forecastIssuedAt,
  apartments,
});

describe('stationRisks', () => {
  it('colours a station by its most likely cold apartment and lists the ones at risk first', () => {
    const rs = stationRisks({
      stations: [
        station('a', [apt('a1', 0.1, 19), apt('a2', 0.7, 17.6), apt('a3', 0.3, 18.1)]),
        station('b', [apt('b1', 0.25, 18.2)]),
        station('c', [apt('c1', 0.01, 20.5)], null),
        station('d', [{ apartmentId: 'd1', status: 'insufficient_data', fitHours: 3 }], null),
      ],
    });
    expect(rs.map((r) => r.level)).toEqual(['high', 'medium', 'low', 'unknown']);
    expect(rs[0]).toMatchObject({ likely: 1, ready: 3, noModel: 0, minC: 17.6 });
    expect(rs[0]!.atRisk.map((a) => a.apartmentId)).toEqual(['a2', 'a3']);
    expect(rs[3]).toMatchObject({ ready: 0, noModel: 1, minC: undefined });
    expect(riskCounts(rs)).toEqual({ high: 1, medium: 1, low: 1, unknown: 1 });
  });
});
