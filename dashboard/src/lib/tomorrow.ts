/**
 * The "tomorrow" layer (issue #20): each station's predicted cold risk over the forecast
 * horizon, from GET /api/v1/forecasts/risk. Pure, so it is tested without a browser.
 */
import { defaultForecastOptions } from '../../../domain/forecast/forecast.options.ts';
import type { ForecastRisk as RiskResponse } from './api.ts';

export type RiskLevel = 'high' | 'medium' | 'low' | 'unknown';
export const RISK_ORDER: readonly RiskLevel[] = ['high', 'medium', 'low', 'unknown'];
export const RISK_COLOUR: Readonly<Record<RiskLevel, string>> = { high: '#b2182b', medium: '#ef8a62', low: '#4393c3', unknown: '#9aa3ad' };

/**
 * Probabilities a station's risk level counts from: `likely` is the opening threshold of a
 * predicted_cold (high), `possible` the least the layer shows at all (medium).
 */
const RISK_PROBABILITY = { likely: defaultForecastOptions.openProbability, possible: 0.2 } as const;

export interface StationRisk {
  readonly stationId: string;
  readonly level: RiskLevel;
  /** Monitored apartments with a model. */
  readonly ready: number;
  /** Apartments without enough data for a model. */
  readonly noModel: number;
  /** Apartments likely (≥ ½) to fall below the standard within the horizon. */
  readonly likely: number;
  readonly maxProbability: number;
  /** Lowest predicted hourly value over the station's apartments, °C. */
  readonly minC: number | undefined;
  readonly atRisk: readonly { apartmentId: string; probability: number; minC: number; minAt: number; sigmaC: number }[];
}

export function stationRisks(r: RiskResponse): StationRisk[] {
  return r.stations.map((s) => {
    const ready = s.apartments.filter((a) => a.status === 'ready' && a.probability !== undefined);
    const atRisk = ready
      .filter((a) => a.probability! >= RISK_PROBABILITY.possible)
      .map((a) => ({ apartmentId: a.apartmentId, probability: a.probability!, minC: a.minC!, minAt: a.minAt!, sigmaC: a.sigmaC! }))
      .sort((a, b) => b.probability - a.probability || a.minC - b.minC);
    const likely = atRisk.filter((a) => a.probability >= RISK_PROBABILITY.likely).length;
    const maxProbability = ready.reduce((m, a) => Math.max(m, a.probability!), 0);
    const level: RiskLevel =
      ready.length === 0 ? 'unknown' : likely > 0 ? 'high' : maxProbability >= RISK_PROBABILITY.possible ? 'medium' : 'low';
    const mins = ready.map((a) => a.minC!).filter((x) => Number.isFinite(x));
    return {
      stationId: s.stationId,
      level,
      ready: ready.length,
      noModel: s.apartments.length - ready.length,
      likely,
      maxProbability,
      minC: mins.length ? Math.min(...mins) : undefined,
      atRisk,
    };
  });
}

export function riskCounts(rs: readonly StationRisk[]): Record<RiskLevel, number> {
  const c: Record<RiskLevel, number> = { high: 0, medium: 0, low: 0, unknown: 0 };
  for (const r of rs) c[r.level]++;
  return c;
}
