/**
 * Owns how one ingest is put together over its stores, the same in `npm run ingest`
 * (ingest/server.ts) and `npm start` (start.ts): the rules engine on the live topology,
 * restored from the last rules snapshot when there is one (none with `rules: false`), the
 * forecast store beside the readings (issue #20), and the ingest app over them.
 */
import type { PlatformConfig } from '../domain/config.ts';
import { policyForCity } from '../domain/policy.ts';
import { hourlyHistory } from '../storage/readings/forecast.history.ts';
import { forecastStoreBeside, type ForecastStore } from '../storage/readings/forecast.store.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { createIngestApp, type IngestApp, type IngestDeps } from './app.ts';
import { liveRules, type RulesPort } from './rules.port.ts';
import { RulesSnapshotRepository } from './rules-snapshot.repository.ts';

export interface ComposeIngest extends Pick<IngestDeps, 'store' | 'deadLetters' | 'logger' | 'clock' | 'mqtt' | 'options'> {
  readonly config: PlatformConfig;
  readonly registry: RegistryRepository;
  /** false: no rules engine (INGEST_RULES=0). */
  readonly rules?: boolean;
}

export function composeIngest(d: ComposeIngest): { app: IngestApp; forecasts: ForecastStore } {
  const { config, registry, store, logger } = d;
  const policy = policyForCity(config.city);
  const city = () => registry.city();
  let rules: RulesPort | undefined;
  let rulesLastTs: Record<string, number> | undefined;
  if (d.rules !== false) {
    const loaded = new RulesSnapshotRepository(config.dataDir).load((snap) => liveRules({ city, policy, snapshot: snap.engine }), logger);
    if (loaded) rulesLastTs = { ...loaded.snapshot.lastTs };
    rules = loaded ? loaded.restored : liveRules({ city, policy });
  }
  const forecasts = forecastStoreBeside(store, config.dataDir);
  const app = createIngestApp({
    ...d,
    rules,
    rulesLastTs,
    policy,
    feed: config.ingest.feed,
    // Issue #20: predicted_cold beside the rules, on the forecasts the API stores.
    forecast: { city, forecasts, history: (c, from, to) => hourlyHistory(store, c, policy, from, to) },
  });
  return { app, forecasts };
}
