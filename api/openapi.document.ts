/**
 * The OpenAPI document exactly as the running API serves it (GET /api/docs/json), built
 * without a port or data: the routes and their TypeBox schemas are all it depends on. Used by
 * the dashboard client generator (api/client.generate.ts), so the generated types are the
 * routes' own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ManualClock } from '../domain/clock.ts';
import { parseConfig } from '../domain/config.ts';
import { policyForCity } from '../domain/policy.ts';
import { EmbeddedStore } from '../storage/readings/embedded.store.ts';
import { RegistryRepository } from '../storage/records/registry.repository.ts';
import { buildApi } from './app.ts';

export async function openApiDocument(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'heat-openapi-'));
  const registry = RegistryRepository.open(dir);
  const store = EmbeddedStore.open(':memory:');
  try {
    // Throwaway values: an empty data dir that is deleted below; nothing listens.
    const config = parseConfig({ DATA_DIR: dir, ADMIN_PASSWORD: 'openapi-document-only', CITY: 'beijing' });
    const app = await buildApi({
      config,
      registry,
      store,
      logger: pino({ level: 'silent' }),
      clock: new ManualClock(0),
      policy: policyForCity(config.city),
      tickIntervalMs: 0,
    });
    try {
      await app.ready();
      return JSON.parse(JSON.stringify(app.swagger())) as Record<string, unknown>;
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
