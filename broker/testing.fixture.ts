/**
 * Test fixtures for the broker's unit specs and integration tests (tests/broker*.test.ts):
 * a small registry with known secrets and MQTT.js helpers. Not used by the running broker.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pino from 'pino';
import { topics } from '../domain/topics.ts';
import type { Device } from '../domain/topology.schema.ts';
import { RegistryRepository, type ServiceScope } from '../storage/records/registry.repository.ts';
import { serviceSecretFor } from '../storage/records/service-accounts.ts';

export const SECRET = 'correct-horse-battery';
/** The master key (SERVICE_SECRET of a broker child process); each account's password derives from it. */
export const SERVICE_SECRET = 'service-secret-for-tests';
export const serviceSecret = (account: string) => serviceSecretFor(SERVICE_SECRET, account);

const dev = (id: string, kind: Device['kind'] = 'room_sensor', extra: Partial<Device> = {}): Device => ({
  id,
  kind,
  intervalMin: 5,
  enabled: true,
  ...extra,
});

/** dev-a, dev-b, dev-off (disabled), gw-1 (gateway of dev-g1, dev-g2), svc-ingest, svc-api, svc-sim. */
export function seedRegistry(dataDir: string | ':memory:' = ':memory:'): RegistryRepository {
  const registry = RegistryRepository.open(dataDir);
  for (const d of [
    dev('dev-a'),
    dev('dev-b'),
    dev('dev-off', 'room_sensor', { enabled: false }),
    dev('gw-1', 'gateway'),
    dev('dev-g1', 'room_sensor', { gatewayId: 'gw-1' }),
    dev('dev-g2', 'room_sensor', { gatewayId: 'gw-1' }),
  ]) {
    registry.upsertDevice(d, `${SECRET}-${d.id}`);
  }
  const accounts: [string, ServiceScope[]][] = [
    ['svc-ingest', ['ingest']],
    ['svc-api', ['api']],
    ['svc-sim', ['replay']],
  ];
  for (const [id, scopes] of accounts) registry.upsertServiceAccount(id, scopes, serviceSecret(id));
  return registry;
}

export const deviceSecret = (id: string) => `${SECRET}-${id}`;

export const silentLogger = pino({ level: 'silent' });

const base: IClientOptions = { reconnectPeriod: 0, connectTimeout: 10_000, protocolVersion: 4 };

/** Connect a device with its own credentials (or overrides). Rejects on CONNACK ≠ 0. */
export function connectDevice(url: string, id: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { ...base, clientId: id, username: id, password: deviceSecret(id), ...opts });
}

export function connectService(url: string, account: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { ...base, clientId: account, username: account, password: serviceSecret(account), ...opts });
}

/** The CONNACK return code of a refused connection (undefined when it was accepted). */
export async function connackCode(url: string, opts: IClientOptions): Promise<number | undefined> {
  try {
    const c = await mqtt.connectAsync(url, { ...base, ...opts });
    await c.endAsync();
    return undefined;
  } catch (e) {
    return (e as { code?: number }).code;
  }
}

/** Resolves when the client's connection is closed by the other side. */
export function closed(c: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!c.connected) return resolve();
    c.once('close', () => resolve());
  });
}

/**
 * SUBACK return codes per filter. MQTT.js rejects a SUBSCRIBE when any filter gets 0x80,
 * so the codes are read from the error's SUBACK packet then.
 */
export async function subackCodes(c: MqttClient, filters: string | string[], qos: 0 | 1 | 2 = 1): Promise<number[]> {
  try {
    return (await c.subscribeAsync(filters, { qos })).map((g) => g.qos);
  } catch (e) {
    const granted = (e as { packet?: { granted?: (number | { qos: number })[] } }).packet?.granted;
    if (granted) return granted.map((g) => (typeof g === 'number' ? g : g.qos));
    throw e;
  }
}

/** Give the ingest a persistent session subscribed to all telemetry (QoS 1), then go offline: the broker queues for it. */
export async function parkIngestSession(url: string): Promise<void> {
  const ingest = await connectService(url, 'svc-ingest', { clean: false });
  await ingest.subscribeAsync(topics.allTelemetry[0], { qos: 1 });
  await ingest.endAsync();
}

/**
 * Reconnect the ingest's persistent session (clean: false), listening before the CONNACK:
 * what the broker queued for it follows the CONNACK at once, before connectAsync would resolve.
 */
export function resumeIngestSession(url: string, onMessage: (topic: string, payload: Buffer) => void): MqttClient {
  const c = mqtt.connect(url, {
    ...base,
    clientId: 'svc-ingest',
    username: 'svc-ingest',
    password: serviceSecret('svc-ingest'),
    clean: false,
  });
  c.on('message', onMessage);
  return c;
}
