/**
 * Issue 17: the API acknowledged an incident even when applying it threw (the incident was
 * gone from the broker and never reached the database). Now a failed apply gets no PUBACK;
 * the consumer reconnects, the broker redelivers, and once the database writes again the
 * order exists — exactly one. The failures are real: SQLite in query-only mode refuses writes,
 * and a size-limited records.db (PRAGMA max_page_count) is a full disk (SQLITE_FULL).
 * Real broker (broker/app.ts), the API's own consumer, the ingest's account on MQTT.js.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerApp } from '../broker/app.ts';
import { topics } from '../domain/topics.ts';
import type { TestApi } from './api-fixture.ts';
import { startApiOverMqtt, stationFault, type ApiOverMqtt } from './api-mqtt.fixture.ts';
import { waitFor } from './harness/ports.ts';

const SVC = 'svc-secret-for-incident-failure-test';
let m: ApiOverMqtt;
let broker: BrokerApp;
let t: TestApi;
let ingest: MqttClient;
const incident = stationFault;

beforeAll(async () => {
  m = await startApiOverMqtt(SVC);
  ({ t, broker, ingest } = m);
});
afterAll(() => m?.close());

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
