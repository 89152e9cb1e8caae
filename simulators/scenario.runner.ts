/**
 * Run a scenario and report expected vs found incidents.
 *
 *  - pipeline: the real thing. A registry loaded with the scenario's city, the broker
 *    (broker/app.ts), the ingest (ingest/app.ts) with the rules engine, an embedded store,
 *    the device fleet publishing over MQTT (one connection per device or gateway), and an
 *    `api`-scoped subscriber collecting incidents from `heat/v1/platform/incidents`. Model
 *    time is driven in steps; the ingest's clock follows it, so hours pass in seconds.
 *  - direct: the model's readings fed straight into RulesEngine on a driven clock — same
 *    delivery order (backlogs included), no network; for fast deterministic tests.
 */
import mqtt from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { ManualClock, MINUTE_MS } from '../domain/clock.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { policyForCity, type HeatingPolicy } from '../domain/policy.ts';
import { RulesEngine } from '../domain/rules/engine.ts';
import { topics } from '../domain/topics.ts';
import { generateCity, type GeneratedCity } from './city.generator.ts';
import { simulateDeliveries } from './feed.ts';
import { startFleet } from './fleet.ts';
import { formatReport, IncidentCollector, matchIncidents, type FoundIncident, type MatchResult, type Scenario } from './scenario.ts';
import { ThermalModel } from './thermal.model.ts';

export interface ScenarioReport extends MatchResult {
  readonly name: string;
  readonly mode: 'direct' | 'pipeline';
  readonly found: readonly FoundIncident[];
  readonly readings: number;
  readonly wallMs: number;
  readonly text: string;
}

export interface RunOptions {
  readonly mode?: 'direct' | 'pipeline';
  readonly logger?: Logger;
  /** pipeline: model-time step between publishing rounds, minutes. Default 20. */
  readonly stepMin?: number;
  /** pipeline: fleet connections. Default per-device. */
  readonly connectionMode?: 'per-device' | 'shared';
  readonly onProgress?: (p: { ts: number; fraction: number }) => void;
}

export function scenarioCity(s: Scenario): GeneratedCity {
  return generateCity(s.city);
}

export function scenarioPolicy(s: Scenario): HeatingPolicy {
  return policyForCity(s.city.policyCity ?? 'beijing');
}

/** The thermal model of a scenario (its city, weather and faults), e.g. as a replay source. */
export function scenarioModel(s: Scenario, g: GeneratedCity = scenarioCity(s), policy: HeatingPolicy = scenarioPolicy(s)): ThermalModel {
  return new ThermalModel({ city: g.city, policy, start: s.start, faults: s.faults, ...(s.weather ? { weather: s.weather } : {}) });
}

export async function runScenario(s: Scenario, opts: RunOptions = {}): Promise<ScenarioReport> {
  return (opts.mode ?? 'pipeline') === 'direct' ? runDirect(s, opts) : runPipeline(s, opts);
}

function report(s: Scenario, mode: 'direct' | 'pipeline', c: IncidentCollector, readings: number, started: number): ScenarioReport {
  const found = c.list();
  const m = matchIncidents(s.expect, found);
  return { ...m, name: s.name, mode, found, readings, wallMs: Date.now() - started, text: formatReport(`${s.name} (${mode})`, m, found) };
}

export function runDirect(s: Scenario, opts: RunOptions = {}): ScenarioReport {
  const started = Date.now();
  const g = scenarioCity(s);
  const policy = scenarioPolicy(s);
  const m = scenarioModel(s, g, policy);
  const engine = new RulesEngine({ city: g.city, policy });
  const c = new IncidentCollector();
  let readings = 0;
  let lastAdvance = Number.NEGATIVE_INFINITY;
  for (const d of simulateDeliveries(m, { from: s.start, to: s.end })) {
    for (const r of d.readings) {
      readings++;
      for (const e of engine.ingest(r)) c.add(e);
    }
    // The ingest advances the rules to its clock after each batch; here the clock is model time.
    if (d.at > lastAdvance) {
      lastAdvance = d.at;
      for (const e of engine.advanceTo(d.at)) c.add(e);
    }
    opts.onProgress?.({ ts: d.at, fraction: (d.at - s.start) / (s.end - s.start) });
  }
  for (const e of engine.advanceTo(s.end)) c.add(e);
  return report(s, 'direct', c, readings, started);
}

export async function runPipeline(s: Scenario, opts: RunOptions = {}): Promise<ScenarioReport> {
  const started = Date.now();
  // Imported lazily: direct mode (and the CLI's other commands) need no broker or ingest.
  const [
    { createBrokerApp },
    { createIngestApp },
    { RegistryRepository },
    { ensureServiceAccounts },
    { EmbeddedStore },
    { DeadLetterRepository },
  ] = await Promise.all([
    import('../broker/app.ts'),
    import('../ingest/app.ts'),
    import('../storage/records/registry.repository.ts'),
    import('../storage/records/service-accounts.ts'),
    import('../storage/readings/embedded.store.ts'),
    import('../storage/readings/dead-letter.repository.ts'),
  ]);
  const logger = opts.logger ?? pino({ level: 'silent' });
  const g = scenarioCity(s);
  const policy = scenarioPolicy(s);
  const dir = mkdtempSync(join(tmpdir(), 'heat-scenario-'));
  const clock = new ManualClock(s.start);
  const registry = RegistryRepository.open(dir);
  const cleanup: (() => Promise<void> | void)[] = [() => registry.close(), () => rmSync(dir, { recursive: true, force: true })];
  try {
    registry.loadCity(g.city, g.secrets);
    const secrets = ensureServiceAccounts(registry, dir);
    // A driven replay publishes hours of readings per wall second: rate limits run on its event clock.
    const broker = await createBrokerApp({ registry, logger, clock, rateClock: clock });
    cleanup.unshift(() => broker.close());
    const { mqttPort } = await broker.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' });
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    const store = EmbeddedStore.open(dir);
    cleanup.unshift(() => store.close());
    const engine = new RulesEngine({ city: g.city, policy });
    const c = new IncidentCollector();
    const api = await mqtt.connectAsync(url, {
      clientId: 'svc-api-scenario',
      username: 'svc-api',
      password: secrets['svc-api'],
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    cleanup.unshift(() => api.endAsync(true));
    await api.subscribeAsync(topics.incidents, { qos: 1 });
    api.on('message', (_t, payload) => c.add(JSON.parse(payload.toString()) as IncidentEvent));
    const ingest = createIngestApp({
      config: { dataDir: dir, city: s.city.policyCity ?? 'beijing' },
      registry,
      store,
      deadLetters: new DeadLetterRepository(registry.db),
      logger,
      clock,
      mqtt: { url, clientId: 'svc-ingest', username: 'svc-ingest', password: secrets['svc-ingest'] },
      rules: engine,
      policy,
      options: { spoolSync: 'normal', batchAgeMs: 5 },
    });
    await ingest.start();
    cleanup.unshift(() => ingest.stop());
    const fleet = startFleet({
      city: g.city,
      secrets: g.secrets,
      mqttUrl: url,
      model: scenarioModel(s, g, policy),
      policy,
      clock,
      live: false,
      stamp: 'model',
      startTs: s.start,
      connectionMode: opts.connectionMode ?? 'per-device',
      shared: { username: 'svc-sim', password: secrets['svc-sim'], clientId: 'svc-sim-scenario' },
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    cleanup.unshift(() => fleet.stop());
    await fleet.ready;
    const stepMs = (opts.stepMin ?? 20) * MINUTE_MS;
    const timing = { publish: 0, settle: 0 };
    const settle = async (): Promise<void> => {
      // The ingest has everything the fleet had acknowledged once its counters catch up.
      const want = fleet.stats().messages;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const im = ingest.metrics();
        if (im.messages >= want && im.spoolBacklog === 0 && c.events >= im.incidentsPublished) return;
        if (Date.now() > deadline)
          throw new Error(
            `pipeline did not settle: ingest ${im.messages}/${want} messages, ${im.spoolBacklog} spooled, incidents ${c.events}/${im.incidentsPublished}`,
          );
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    for (let t = s.start; t < s.end;) {
      t = Math.min(s.end, t + stepMs);
      clock.set(t);
      const t0 = performance.now();
      await fleet.advanceTo(t);
      const t1 = performance.now();
      await settle();
      timing.publish += t1 - t0;
      timing.settle += performance.now() - t1;
      opts.onProgress?.({ ts: t, fraction: (t - s.start) / (s.end - s.start) });
    }
    logger.debug({ ...timing, wallMs: Date.now() - started }, 'scenario pipeline timing');
    return report(s, 'pipeline', c, fleet.stats().published, started);
  } finally {
    for (const f of cleanup) {
      try {
        await f();
      } catch {
        // Best effort: a failed close must not hide the result or the original error.
      }
    }
  }
}
