/**
 * Curve advice proposals (issue #20) and the engineer's decision on each, in records.db. The
 * platform never changes a controller: approving records that an engineer took the advice.
 */
import type Database from 'better-sqlite3';
import type { CurveAdvice } from '../domain/forecast/curve.advisor.ts';
import type { AdviceRecord } from '../domain/forecast/forecast.api.schema.ts';
import { SqliteRepository } from './sqlite.repository.ts';

type Row = {
  id: string;
  station_id: string;
  created_at: number;
  status: AdviceRecord['status'];
  decided_by: string | null;
  decided_at: number | null;
  advice: string;
};

const nullIfNaN = (x: number) => (Number.isFinite(x) ? x : null);

export class ForecastAdviceRepository extends SqliteRepository {
  constructor(db: Database.Database) {
    super(db);
  }

  add(a: CurveAdvice, at: number): AdviceRecord {
    const id = `advice:${a.stationId}:${at}`;
    const advice: AdviceRecord['advice'] = {
      status: a.status,
      origin: a.origin,
      horizonH: a.horizonH,
      offsetC: a.offsetC,
      apartments: a.apartments,
      apartmentsWithoutModel: a.apartmentsWithoutModel,
      coldestShare: a.coldestShare,
      targetC: a.targetC,
      coldestNowC: nullIfNaN(a.coldestNowC),
      coldestAdvisedC: nullIfNaN(a.coldestAdvisedC),
      meanNowC: nullIfNaN(a.meanNowC),
      meanAdvisedC: nullIfNaN(a.meanAdvisedC),
      estimatedEnergyChangePct: a.estimatedEnergyChangePct,
      targetUnreachable: a.targetUnreachable,
    };
    this.prep('INSERT OR REPLACE INTO forecast_advice (id, station_id, created_at, status, advice) VALUES (?, ?, ?, ?, ?)').run(
      id,
      a.stationId,
      at,
      'proposed',
      JSON.stringify(advice),
    );
    return this.get(id)!;
  }

  get(id: string): AdviceRecord | undefined {
    const r = this.prep('SELECT * FROM forecast_advice WHERE id = ?').get(id) as Row | undefined;
    return r && toRecord(r);
  }

  list(stationId?: string, limit = 50): AdviceRecord[] {
    const rows = (
      stationId
        ? this.prep('SELECT * FROM forecast_advice WHERE station_id = ? ORDER BY created_at DESC LIMIT ?').all(stationId, limit)
        : this.prep('SELECT * FROM forecast_advice ORDER BY created_at DESC LIMIT ?').all(limit)
    ) as Row[];
    return rows.map(toRecord);
  }

  /** Decide a proposal; false when it is no longer proposed (decided already). */
  decide(id: string, status: 'approved' | 'dismissed', by: string, at: number): boolean {
    const r = this.prep("UPDATE forecast_advice SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = 'proposed'").run(
      status,
      by,
      at,
      id,
    );
    return r.changes === 1;
  }
}

function toRecord(r: Row): AdviceRecord {
  return {
    id: r.id,
    stationId: r.station_id,
    createdAt: r.created_at,
    status: r.status,
    ...(r.decided_by ? { decidedBy: r.decided_by } : {}),
    ...(r.decided_at !== null ? { decidedAt: r.decided_at } : {}),
    advice: JSON.parse(r.advice) as AdviceRecord['advice'],
  };
}
