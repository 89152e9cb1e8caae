import { defineConfig } from 'vitest/config';

/** `npm test` runs the chaos suite on its own after the rest (`test:chaos:ci`, README Testing). */
const withoutChaos = process.env.HEAT_TEST_WITHOUT_CHAOS === '1' ? ['tests/chaos.test.ts'] : [];

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
      {
        extends: true,
        test: { name: 'integration', include: ['tests/**/*.test.ts'], exclude: ['**/node_modules/**', '**/dist/**', ...withoutChaos] },
      },
    ],
  },
});
