/**
 * API bench: incidents → orders (the MQTT consumer's path, deduplication and grid lookup
 * included), the SLA/escalation tick over many open orders, and REST latency of the order
 * list next to the health route. Baselines measured in the same run: a bare SQLite insert of
 * the same JSON per row, and the health route.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import Database from 'better-sqlite3';
import { buildApi } from '../api/app.ts';
import { HOUR_MS, ManualClock } from '../domain/clock.ts';
import { parseConfig } from '../domain/config.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { policyForCity } from '../domain/policy.ts';
import { generateCity } from '../simulators/city.generator.ts';
import { EmbeddedStore } from '../storage/readings/embedded.store.ts';
import { RegistryRepository } from '../storage/records/registry.repository.ts';
import type { BenchOptions, BenchRow } from './types.ts';

const T0 = Date.UTC(2026, 11, 1, 2);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? Number.NaN;
};

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'heat-api-bench-'));
  const registry = RegistryRepository.open(dir);
  const store = EmbeddedStore.open(dir);
  try {
    const { city, secrets } = generateCity({ seed: 7, stations: opts.quick ? 4 : 20, sensorShare: 0.01 });
    registry.loadCity(city, secrets);
    const clock = new ManualClock(T0);
    const config = parseConfig({ DATA_DIR: dir, ADMIN_PASSWORD: 'bench-admin-password' });
    const app = await buildApi({
      config,
      registry,
      store,
      logger: pino({ level: 'silent' }),
      clock,
      policy: policyForCity('beijing'),
      tickIntervalMs: 0,
    });
    await app.ready();
    const apartments = city.apartments.slice(0, opts.quick ? 1000 : 5000);
    opts.log(`${city.apartments.length} apartments, ${apartments.length} cold incidents`);
    const events: IncidentEvent[] = apartments.map((a, i) => ({
      type: 'opened',
      at: T0 + i,
      incident: {
        id: `apartment_cold:${a.id}:${T0}`,
        kind: 'apartment_cold',
        subjectType: 'apartment',
        subjectId: a.id,
        apartmentId: a.id,
        status: 'open',
        startTs: T0,
        severity: 'minor',
        cause: 'in_home',
        evidence: { value: 16.5 },
      },
    }));

    // Baseline: the same JSON written row by row into a bare table, one transaction each.
    const raw = new Database(join(dir, 'baseline.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec('CREATE TABLE t (id TEXT PRIMARY KEY, data TEXT NOT NULL)');
    const ins = raw.prepare('INSERT OR REPLACE INTO t VALUES (?, ?)');
    const one = raw.transaction((e: IncidentEvent) => ins.run(e.incident.id, JSON.stringify(e)));
    let t = performance.now();
    for (const e of events) one(e);
    const baseRate = events.length / ((performance.now() - t) / 1000);
    raw.close();

    t = performance.now();
    for (const e of events) app.heat.onIncidentMessage(e);
    const rate = events.length / ((performance.now() - t) / 1000);
    const orders = app.heat.ctx.ordersRepo.countOpen();
    opts.log(`${orders} orders opened`);

    clock.advance(25 * HOUR_MS);
    t = performance.now();
    const tick = app.heat.tick();
    const tickMs = performance.now() - t;
    opts.log(`tick: ${tick.escalations} escalations, ${tick.breaches} breaches`);

    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: 'bench-admin-password' },
    });
    const auth = { authorization: `Bearer ${login.json<{ token: string }>().token}` };
    const lat = async (url: string, n: number): Promise<number> => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        await app.inject({ method: 'GET', url, headers: auth });
        xs.push(performance.now() - s);
      }
      return median(xs);
    };
    const n = opts.quick ? 30 : 100;
    const health = await lat('/api/v1/health', n);
    const list = await lat('/api/v1/orders?limit=200', n);
    const kpiMs = await lat(`/api/v1/kpis?from=${T0 - HOUR_MS}&to=${clock.now()}`, Math.max(5, n / 10));
    await app.close();
    return [
      {
        name: 'api: incidents → orders',
        value: rate,
        unit: 'incidents/s',
        baseline: { name: 'bare SQLite insert of the same JSON, one tx each', value: baseRate },
        // A whole station going cold (~470 apartments, heating-norms §F) must be turned into orders within seconds.
        target: { kind: 'min', value: 100 },
        note: `${events.length} apartment incidents, each deduplicated, a new order with grid lookup, audit and socket push`,
      },
      {
        name: 'api: SLA tick over open orders',
        value: tickMs,
        unit: 'ms',
        target: { kind: 'max', value: 5000 },
        note: `${orders} open orders, ${tick.escalations} escalations + ${tick.breaches} breaches recorded`,
      },
      {
        name: 'api: GET /orders?limit=200 median',
        value: list,
        unit: 'ms',
        baseline: { name: 'GET /health median', value: health },
        target: { kind: 'max', value: 100 },
      },
      {
        name: 'api: GET /kpis median',
        value: kpiMs,
        unit: 'ms',
        target: { kind: 'max', value: 2000 },
        note: `${city.apartments.length} apartments, ${orders} orders`,
      },
    ];
  } finally {
    await store.close();
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
