/** Health, Prometheus metrics (the API's and the broker's) and the OpenAPI document. */
import { ApiMetricsSchema, HealthSchema, textResponse, type WritePathHealth } from '../../domain/api.schema.ts';
import { writePathsPrometheus } from '../../domain/write-health.ts';
import type { ApiContext, App } from '../context.ts';

const metricLine = (name: string, help: string, type: 'counter' | 'gauge', value: number): string =>
  `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`;

export function registerSystemRoutes(
  app: App,
  ctx: ApiContext,
  opts: {
    brokerMetrics?: () => unknown;
    brokerPrometheus?: () => string;
    /** The broker's and ingest's write paths in this process (start.ts); absent for the API alone. */
    writeHealth?: () => readonly WritePathHealth[];
    metrics: () => Record<string, number>;
  },
): void {
  app.get(
    '/api/v1/health',
    { config: { public: true }, schema: { tags: ['system'], security: [], response: { 200: HealthSchema } } },
    async () => {
      let store = true;
      try {
        await ctx.store.count({ deviceId: '__health__' });
      } catch {
        store = false;
      }
      const mqtt = ctx.stats.mqttConnected();
      const writes = [...(opts.writeHealth?.() ?? [])];
      const records = ctx.stats.records();
      const ok = store && records.writable && writes.every((w) => w.failing === null);
      return {
        status: ok ? ('ok' as const) : ('degraded' as const),
        time: ctx.clock.now(),
        mqtt,
        store,
        writes,
        records: records.writable,
        ...(records.lastFault ? { recordsLastFault: records.lastFault } : {}),
      };
    },
  );

  app.get(
    '/api/docs/json',
    {
      config: { public: true },
      schema: { hide: true, response: { 200: { description: 'this OpenAPI document', type: 'object', additionalProperties: true } } },
    },
    () => app.swagger() as unknown as Record<string, unknown>,
  );

  // Prometheus scrapes without a session (as usual); it reveals counts, never records.
  app.get(
    '/metrics',
    { config: { public: true }, schema: { hide: true, response: { 200: textResponse('text/plain', 'Prometheus text exposition') } } },
    async (_req, reply) => {
      const m = opts.metrics();
      const open = ctx.ordersRepo.countOpen();
      let text =
        metricLine('heat_api_http_requests_total', 'HTTP requests received', 'counter', m.http ?? 0) +
        metricLine('heat_api_http_5xx_total', 'HTTP 5xx responses', 'counter', m.http5xx ?? 0) +
        '# HELP heat_api_http_refused_total Requests refused by the access check (401 no session, 403 role)\n# TYPE heat_api_http_refused_total counter\n' +
        `heat_api_http_refused_total{status="401"} ${m.refused401 ?? 0}\nheat_api_http_refused_total{status="403"} ${m.refused403 ?? 0}\n` +
        metricLine(
          'heat_api_refusals_not_audited_total',
          'Refusals with no audit entry (over the per-address cap, or the disk refused the entry: answered 503)',
          'counter',
          m.refusalsNotAudited ?? 0,
        ) +
        metricLine('heat_api_incident_events_total', 'Incident events consumed', 'counter', m.incidents ?? 0) +
        metricLine(
          'heat_api_incident_duplicates_total',
          'Incident events already applied (redelivery)',
          'counter',
          m.incidentDuplicates ?? 0,
        ) +
        metricLine(
          'heat_api_incident_failures_total',
          'Incident events not applied (not acknowledged, redelivered)',
          'counter',
          m.incidentFailures ?? 0,
        ) +
        metricLine('heat_api_live_readings_total', 'Live readings pushed to sockets', 'counter', m.liveReadings ?? 0) +
        metricLine(
          'heat_api_platform_messages_rejected_total',
          'Invalid platform messages dropped',
          'counter',
          m.badPlatformMessages ?? 0,
        ) +
        metricLine('heat_api_socket_clients', 'Connected socket.io clients', 'gauge', m.sockets ?? 0) +
        metricLine('heat_api_mqtt_connected', 'MQTT consumer connected (1/0)', 'gauge', m.mqttConnected ?? 0) +
        metricLine(
          'heat_api_records_write_failures_total',
          'records.db writes refused by the disk (answered 503)',
          'counter',
          m.recordsWriteFailures ?? 0,
        ) +
        metricLine(
          'heat_api_records_writable',
          'records.db takes writes (1/0; 0 from a disk fault until a write succeeds)',
          'gauge',
          m.recordsWritable ?? 1,
        ) +
        metricLine('heat_api_orders_open', 'Open service orders', 'gauge', open);
      text += writePathsPrometheus(opts.writeHealth?.() ?? []);
      if (opts.brokerPrometheus) text += opts.brokerPrometheus();
      void reply.type('text/plain; version=0.0.4');
      return text;
    },
  );

  app.get(
    '/api/v1/metrics',
    {
      config: { roles: ['admin', 'engineer', 'manager', 'deputy_gm', 'general_manager'] },
      schema: { tags: ['system'], response: { 200: ApiMetricsSchema } },
    },
    () => ({
      api: opts.metrics(),
      broker: opts.brokerMetrics?.() ?? null,
    }),
  );
}
