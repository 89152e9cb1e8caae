/**
 * The whole platform in-process for integration and browser tests: start.ts's
 * startPlatform() on a temporary DATA_DIR and free ports. Pass `influxUrl` to use a real
 * influxd (tests/harness/influxd.ts) instead of the embedded store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../domain/config.ts';
import { startPlatform, type Platform, type PlatformOptions } from '../../start.ts';
import { freePort } from './ports.ts';

export interface TestPlatformOptions extends Omit<PlatformOptions, 'config'> {
  readonly demo?: boolean;
  readonly influxUrl?: string;
  readonly influxDb?: string;
  readonly env?: Record<string, string>;
}

export type TestPlatform = Platform & { readonly dataDir: string };

export async function startTestPlatform(opts: TestPlatformOptions = {}): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'heatwatch-'));
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    MQTT_PORT: String(await freePort()),
    MQTT_WS_PORT: String(await freePort()),
    HTTP_PORT: String(await freePort()),
    DEMO: opts.demo === false ? '0' : '1',
    ADMIN_PASSWORD: 'admin-test-password',
    LOG_LEVEL: 'warn',
    ...(opts.influxUrl ? { INFLUX_URL: opts.influxUrl, INFLUX_DB: opts.influxDb ?? 'heat' } : {}),
    ...opts.env,
  };
  const config = parseConfig(env);
  const platform = await startPlatform({ ...opts, config, logger: opts.logger ?? pino({ level: config.logLevel }) });
  return {
    ...platform,
    dataDir,
    async stop() {
      await platform.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Log in over REST and return a bearer token. */
export async function login(httpUrl: string, username: string, password: string): Promise<string> {
  const r = await fetch(`${httpUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!r.ok) throw new Error(`login ${username} failed: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}
