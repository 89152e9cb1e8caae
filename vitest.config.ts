import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (specs beside the code, no external services) and `integration`
 * (tests/: real influxd, brokers, MQTT clients, Chromium). `npm test` runs both;
 * `npm run test:unit` only the first.
 */
export default defineConfig({
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{domain,storage,broker,ingest,api,simulators,bench}/**/*.test.ts', 'dashboard/src/**/*.test.ts'],
        },
      },
      { extends: true, test: { name: 'integration', include: ['tests/**/*.test.ts'] } },
    ],
  },
});
