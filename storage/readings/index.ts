/**
 * `openReadingStore(config)`: InfluxDB when INFLUX_URL is configured, otherwise the embedded
 * SQLite store in DATA_DIR. Both implement the same ReadingStore contract.
 */
import type { PlatformConfig } from '../../domain/config.ts';
import { EmbeddedStore } from './embedded.store.ts';
import { InfluxStore } from './influx.store.ts';
import type { ReadingStore } from './reading-store.ts';

export async function openReadingStore(config: Pick<PlatformConfig, 'influx' | 'dataDir'>): Promise<ReadingStore> {
  if (config.influx) return InfluxStore.open(config.influx);
  return EmbeddedStore.open(config.dataDir);
}

export type { ReadingStore, ReadingScope, HistoryQuery, HistoryPoint } from './reading-store.ts';
export { EmbeddedStore } from './embedded.store.ts';
export { InfluxStore } from './influx.store.ts';
export { DeadLetterRepository } from './dead-letter.repository.ts';
