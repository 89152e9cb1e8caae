/**
 * The platform's own MQTT accounts (ingest, api, simulators). Separate processes sharing a
 * DATA_DIR must agree on one secret: SERVICE_SECRET when configured, otherwise a random one
 * created once in `${dataDir}/service-secret` (mode 0600). Only its hash goes in the registry.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegistryRepository, ServiceScope } from './registry.repository.ts';
import { newDeviceSecret } from './secrets.ts';

export const SERVICE_ACCOUNTS: Readonly<Record<string, readonly ServiceScope[]>> = Object.freeze({
  'svc-ingest': ['ingest'],
  'svc-api': ['api'],
  'svc-sim': ['replay'],
});

export function serviceSecret(dataDir: string, configured?: string): string {
  if (configured) return configured;
  const file = join(dataDir, 'service-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = newDeviceSecret();
  writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  return secret;
}

/** Make sure every service account exists with the current secret; returns the secret. */
export function ensureServiceAccounts(registry: RegistryRepository, dataDir: string, configured?: string): string {
  const secret = serviceSecret(dataDir, configured);
  for (const [id, scopes] of Object.entries(SERVICE_ACCOUNTS)) {
    if (!registry.verifyServiceAccount(id, secret)) registry.upsertServiceAccount(id, scopes, secret);
  }
  return secret;
}
