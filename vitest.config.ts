import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{domain,storage,broker,ingest,api,simulators,tests,bench}/**/*.test.ts', 'dashboard/src/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
