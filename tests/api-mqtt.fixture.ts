/**
 * Test fixture of the API's MQTT tests: the test API (api-fixture.ts) consuming from a real
 * broker (broker/app.ts) on a free port as `svc-api`, and an MQTT.js client on the ingest's
 * service account that publishes as the ingest does; plus the incident event the ingest sends.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import type { ApiDeps } from '../api/app.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { T0, startTestApi, type TestApi } from './api-fixture.ts';
import { waitFor } from './harness/ports.ts';

export interface ApiOverMqtt {
  readonly t: TestApi;
  readonly broker: BrokerApp;
  /** The broker's MQTT URL. */
  readonly url: string;
  /** The API's own MQTT options (to build the API again on the same persistent session). */
  readonly apiMqtt: NonNullable<ApiDeps['mqtt']>;
  /** Connected as the ingest (svc-ingest), MQTT 3.1.1, no reconnect. */
  readonly ingest: MqttClient;
  close(): Promise<void>;
}

/** Start the broker and the API on it (both service accounts share `secret`); resolves once the API's MQTT is up. */
export async function startApiOverMqtt(secret: string): Promise<ApiOverMqtt> {
  let broker: BrokerApp | undefined;
  let apiMqtt: ApiOverMqtt['apiMqtt'] | undefined;
  const t = await startTestApi(
    {},
    {
      prepare: async (registry) => {
        registry.upsertServiceAccount('svc-api', ['api'], secret);
        registry.upsertServiceAccount('svc-ingest', ['ingest'], secret);
        const b = (broker = await createBrokerApp({ registry, logger: pino({ level: 'silent' }) }));
        const ports = await b.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' });
        apiMqtt = { url: `mqtt://127.0.0.1:${ports.mqttPort}`, clientId: 'svc-api', username: 'svc-api', password: secret };
        return { mqtt: apiMqtt, brokerPrometheus: () => b.prometheus() };
      },
    },
  );
  const url = apiMqtt!.url;
  const ingest = await mqtt.connectAsync(url, {
    clientId: 'svc-ingest-test',
    username: 'svc-ingest',
    password: secret,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  await waitFor(async () => (await t.req('GET', '/api/v1/health')).json<{ mqtt: boolean }>().mqtt, { what: 'api mqtt connected' });
  return {
    t,
    broker: broker!,
    url,
    apiMqtt: apiMqtt!,
    ingest,
    async close() {
      await ingest.endAsync();
      await t.close();
      await broker!.close();
    },
  };
}

/** The incident the ingest publishes when a station's pump stops (opened at T0). */
export const stationFault = (station: string): IncidentEvent => ({
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
