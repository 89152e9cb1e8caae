/**
 * Issue 17: the API acknowledged an incident even when applying it threw (the incident was
 * gone from the broker and never reached the database). Now a failed apply gets no PUBACK;
 * the consumer reconnects, the broker redelivers, and once the database writes again the
 * order exists — exactly one. The failures are real: SQLite in query-only mode refuses writes,
 * and a size-limited records.db (PRAGMA max_page_count) is a full disk (SQLITE_FULL).
 * Real broker (broker/app.ts), the API's own consumer, the ingest's account on MQTT.js.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { topics } from '../domain/topics.ts';
import { T0, startTestApi, type TestApi } from './api-fixture.ts';
import { waitFor } from './harness/ports.ts';

const SVC = 'svc-secret-for-incident-failure-test';
let broker: BrokerApp;
let url = '';
let t: TestApi;
let ingest: MqttClient;

const incident = (station: string): IncidentEvent => ({
  type: 'opened',
  at: T0,
  incident: {
    id: `station_fault:${station}:${T0}`,
    kind: 'station_fault',
    subjectType: 'station',
    subjectId: station,
    stationId: station,
    status: 'open',
    startTs: T0,
    severity: 'critical',
    cause: 'station',
    evidence: { pumpHz: 0 },
  },
});

beforeAll(async () => {
  t = await startTestApi(
    {},
    {
      prepare: async (registry) => {
        registry.upsertServiceAccount('svc-api', ['api'], SVC);
        registry.upsertServiceAccount('svc-ingest', ['ingest'], SVC);
        broker = await createBrokerApp({ registry, logger: pino({ level: 'silent' }) });
        const ports = await broker.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' });
        url = `mqtt://127.0.0.1:${ports.mqttPort}`;
        return { mqtt: { url, clientId: 'svc-api', username: 'svc-api', password: SVC } };
      },
    },
  );
  ingest = await mqtt.connectAsync(url, {
    clientId: 'svc-ingest-test',
    username: 'svc-ingest',
    password: SVC,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  await waitFor(async () => (await t.req('GET', '/api/v1/health')).json<{ mqtt: boolean }>().mqtt, { what: 'api mqtt connected' });
});

afterAll(async () => {
  await ingest?.endAsync();
  await t?.close();
  await broker?.close();
});

describe('API incident consumer: no PUBACK for an incident it could not apply', () => {
  it('keeps the incident in the broker while the database refuses writes, and applies it once when they work again', async () => {
    // The API's own connection to records.db (orders live there too).
    const sqlite = t.app.heat.ctx.registry.db;
    sqlite.pragma('query_only = ON');
    await ingest.publishAsync(topics.incidents, JSON.stringify(incident('s1')), { qos: 1 });
    let metricsText = '';
    const failures = () => Number(/^heat_api_incident_failures_total(?:\{[^}]*\})? (\d+)/m.exec(metricsText)?.[1] ?? 0);
    await waitFor(
      async () => {
        metricsText = (await t.req('GET', '/metrics')).body;
        return failures() >= 2; // failed, redelivered after the reconnect, failed again
      },
      { timeoutMs: 20_000, what: 'incident failures counted' },
    );
    expect(t.app.heat.ctx.ordersRepo.list({ stationId: 's1' })).toHaveLength(0);
    // Still the broker's: queued for the API's persistent session, not acknowledged.
    expect(broker.metrics().queueDepth).toBeGreaterThanOrEqual(1);

    sqlite.pragma('query_only = OFF');
    const orders = await waitFor(
      () => {
        const list = t.app.heat.ctx.ordersRepo.list({ stationId: 's1' });
        return list.length ? list : undefined;
      },
      { timeoutMs: 20_000, what: 'order after the database recovered' },
    );
    expect(orders).toHaveLength(1);
    await waitFor(() => broker.metrics().queueDepth === 0, { what: 'incident acknowledged' });
    expect(t.app.heat.ctx.ordersRepo.list({ stationId: 's1' })).toHaveLength(1);
  });

  it('does the same on a full disk (SQLITE_FULL from a size-limited records.db), and /health says so until it recovers', async () => {
    const sqlite = t.app.heat.ctx.registry.db;
    const pages = sqlite.pragma('page_count', { simple: true }) as number;
    // Use up the free space the file has, then forbid it to grow: the next order cannot be stored.
    sqlite.exec('CREATE TABLE IF NOT EXISTS filler (x BLOB)');
    sqlite.pragma(`max_page_count = ${pages + 64}`);
    try {
      for (;;) sqlite.prepare('INSERT INTO filler VALUES (randomblob(3000))').run();
    } catch (e) {
      expect((e as { code?: string }).code).toBe('SQLITE_FULL');
    }
    const before = t.app.heat.metrics().incidentFailures ?? 0;
    // Evidence large enough to need new (overflow) pages: a partly filled page cannot take it.
    const big = incident('s2');
    const event = { ...big, incident: { ...big.incident, evidence: { ...big.incident.evidence, note: 'no circulation '.repeat(800) } } };
    await ingest.publishAsync(topics.incidents, JSON.stringify(event), { qos: 1 });
    await waitFor(() => (t.app.heat.metrics().incidentFailures ?? 0) >= before + 2, {
      timeoutMs: 20_000,
      what: 'incident refused by the full disk, twice',
    });
    expect(t.app.heat.ctx.ordersRepo.list({ stationId: 's2' })).toHaveLength(0);
    expect(broker.metrics().queueDepth).toBeGreaterThanOrEqual(1);
    expect((await t.req('GET', '/api/v1/health')).json()).toMatchObject({
      status: 'degraded',
      records: false,
      recordsLastFault: { code: 'SQLITE_FULL' },
    });

    // Space comes back (the filler goes, the limit is lifted): the redelivered incident is applied once.
    sqlite.exec('DROP TABLE filler');
    sqlite.pragma(`max_page_count = ${pages + 100_000}`);
    const orders = await waitFor(
      () => {
        const list = t.app.heat.ctx.ordersRepo.list({ stationId: 's2' });
        return list.length ? list : undefined;
      },
      { timeoutMs: 20_000, what: 'order after space came back' },
    );
    expect(orders).toHaveLength(1);
    await waitFor(() => broker.metrics().queueDepth === 0, { what: 'incident acknowledged' });
    expect((await t.req('GET', '/api/v1/health')).json()).toMatchObject({ records: true });
  });
});
