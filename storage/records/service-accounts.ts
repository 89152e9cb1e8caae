/**
 * The platform's own MQTT accounts (ingest, api, simulators), in a namespace of their own.
 *
 * Identity namespaces (issue 13, finding 2): every service account id starts with the
 * reserved prefix `svc-`; no device may be provisioned or imported under it (any case), and
 * the broker resolves service accounts before devices, so a device can never stand in for a
 * service (it once kicked the API's session for good).
 *
 * One secret per service: each account's MQTT password is derived from a master key,
 * `HMAC-SHA256(master, account id)`, so the secret handed to one service (e.g. the
 * simulator CLI's `svc-sim`) opens no other. The master is SERVICE_SECRET when configured,
 * otherwise a random one created once in `${dataDir}/service-secret` (mode 0600), which is
 * how separate processes sharing a DATA_DIR agree with zero configuration. Only the hashes
 * of the derived secrets go in the registry.
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegistryRepository, ServiceScope } from './registry.repository.ts';
import { newDeviceSecret } from './secrets.ts';

/** Reserved for service accounts; refused (in any case) as a device id. */
export const SERVICE_ACCOUNT_PREFIX = 'svc-';

export const SERVICE_ACCOUNTS = Object.freeze({
  'svc-ingest': ['ingest'],
  'svc-api': ['api'],
  'svc-sim': ['replay'],
} as const satisfies Record<string, readonly ServiceScope[]>);

export type ServiceAccountId = keyof typeof SERVICE_ACCOUNTS;

/** One MQTT password per service account. */
export type ServiceSecrets = Readonly<Record<ServiceAccountId, string>>;

/** Is this id in the service accounts' namespace (so not usable by a device)? */
export function isReservedDeviceId(id: string): boolean {
  return id.toLowerCase().startsWith(SERVICE_ACCOUNT_PREFIX);
}

/** The master key: SERVICE_SECRET when configured, otherwise the installation's own. */
export function serviceMasterSecret(dataDir: string, configured?: string): string {
  if (configured) return configured;
  const file = join(dataDir, 'service-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = newDeviceSecret();
  try {
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    // Two services started at once on a fresh DATA_DIR: the other one wrote it first.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw e;
  }
  return secret;
}

/** The MQTT password of one service account under a master key (128 bits, like device secrets). */
export function serviceSecretFor(master: string, account: string): string {
  return createHmac('sha256', master).update(`heatwatch-service:${account}`).digest().subarray(0, 16).toString('base64url');
}

export function serviceSecrets(master: string): ServiceSecrets {
  const out = {} as Record<ServiceAccountId, string>;
  for (const id of Object.keys(SERVICE_ACCOUNTS) as ServiceAccountId[]) out[id] = serviceSecretFor(master, id);
  return out;
}

/**
 * Make sure every service account exists with its current secret (re-keyed when the master
 * changed, e.g. after an upgrade from the shared secret); returns each service's secret.
 */
export function ensureServiceAccounts(registry: RegistryRepository, dataDir: string, configured?: string): ServiceSecrets {
  const secrets = serviceSecrets(serviceMasterSecret(dataDir, configured));
  for (const [id, scopes] of Object.entries(SERVICE_ACCOUNTS) as [ServiceAccountId, readonly ServiceScope[]][]) {
    if (!registry.verifyServiceAccount(id, secrets[id])) registry.upsertServiceAccount(id, scopes, secrets[id]);
  }
  return secrets;
}
