/**
 * `npm run sim -- <command>`: the simulators from the terminal. The dashboard's engineer
 * console drives the same functions (generateCity, startFleet, runScenario, runReplay).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseConfig } from '../domain/config.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { policyForCity } from '../domain/policy.ts';
import type { City } from '../domain/topology.schema.ts';
import { serviceMasterSecret, serviceSecretFor } from '../storage/records/service-accounts.ts';
import { demoCity, deviceSecret, generateCity, type GeneratedCity } from './city.generator.ts';
import { startFleet } from './fleet.ts';
import { runReplay, simulatedReadings, writeReadings, type ReplayProgress, type ReplaySource } from './replay.ts';
import { loadScenario, toMs } from './scenario.ts';
import { runScenario, scenarioCity, scenarioPolicy } from './scenario.runner.ts';
import { ThermalModel } from './thermal.model.ts';

const HELP = `heatwatch simulators

usage: npm run sim -- <command> [options]

commands:
  city                 generate a city (deterministic from --seed)
      --seed N  --stations N  --apartments-per-station N  --sensor-share 0..1  --gateway-share 0..1
      --demo             the demo city of npm start
      --out FILE         write the city as JSON (otherwise print a summary)
      --load             load it into the registry in DATA_DIR (secrets derived from the seed)
  fleet                connect simulated devices to MQTT_URL and publish
      --seed N / --demo  city to simulate (default: the city in the registry in DATA_DIR, else the demo city)
      --speed N          time compression (default 60: a 10-min sensor reports every 10 s)
      --shared           one service connection (svc-sim: SERVICE_SECRET_SIM, or derived from SERVICE_SECRET / DATA_DIR) instead of one per device
  scenario FILE        run a scenario file and report expected vs found incidents
      --direct           straight into the rules engine (default: real broker → ingest → rules)
  export               write simulated readings to a file to replay
      --scenario FILE    city, time range, weather and faults
      --out FILE         .csv or .lp (line protocol)
  replay SOURCE        replay readings through the rules engine: a .csv/.lp file, or "influx"
      --speed N          1…10000 × event time; omit for as fast as possible
      --from ISO --to ISO  time range (influx; optional for files)
      --scenario FILE / --seed N / --demo   the city (default: registry in DATA_DIR)
      --out FILE         write the incident events as JSON lines
  help                 this text

environment: MQTT_URL, DATA_DIR, SERVICE_SECRET, SERVICE_SECRET_SIM, INFLUX_URL, INFLUX_DB, INFLUX_TOKEN | INFLUX_USER/INFLUX_PASSWORD
`;

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    help: { type: 'boolean', short: 'h' },
    seed: { type: 'string' },
    stations: { type: 'string' },
    'apartments-per-station': { type: 'string' },
    'sensor-share': { type: 'string' },
    'gateway-share': { type: 'string' },
    demo: { type: 'boolean' },
    out: { type: 'string', short: 'o' },
    load: { type: 'boolean' },
    speed: { type: 'string' },
    shared: { type: 'boolean' },
    direct: { type: 'boolean' },
    scenario: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
  },
});

const [command, arg] = positionals;
const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
const config = parseConfig(process.env);
const logger = pino(
  { level: config.logLevel },
  process.stderr.isTTY ? pino.transport({ target: 'pino-pretty', options: { destination: 2 } }) : pino.destination(2),
);

function cityFromOptions(): GeneratedCity | undefined {
  if (o.demo) return demoCity();
  if (o.scenario) return scenarioCity(loadScenario(o.scenario));
  if (o.seed === undefined) return undefined;
  return generateCity({
    seed: Number(o.seed),
    stations: num(o.stations) ?? 10,
    ...(o['apartments-per-station'] ? { apartmentsPerStation: Number(o['apartments-per-station']) } : {}),
    ...(o['sensor-share'] ? { sensorShare: Number(o['sensor-share']) } : {}),
    ...(o['gateway-share'] ? { gatewayShare: Number(o['gateway-share']) } : {}),
  });
}

/** The registry's city; secrets derive from its seed (HMAC), which is why the generator does that. */
async function cityFromRegistry(): Promise<GeneratedCity | undefined> {
  if (!existsSync(`${config.dataDir}/records.db`)) return undefined;
  const { RegistryRepository } = await import('../storage/records/registry.repository.ts');
  const reg = RegistryRepository.open(config.dataDir);
  try {
    const city = reg.city();
    if (!city.devices.length) return undefined;
    return { city, secrets: new Map(city.devices.map((d) => [d.id, deviceSecret(city.seed, d.id)])) };
  } finally {
    reg.close();
  }
}

function summary(city: City): string {
  const kinds = new Map<string, number>();
  for (const d of city.devices) kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
  return [
    `city ${city.name} (seed ${city.seed}, policy ${city.policyCity})`,
    `  heat sources ${city.sources.length}, offices ${city.offices.length}, stations ${city.stations.length}`,
    `  buildings ${city.buildings.length}, apartments ${city.apartments.length}, rooms ${city.rooms.length}`,
    `  devices ${city.devices.length}: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`,
  ].join('\n');
}

function bar(p: ReplayProgress): string {
  const width = 30;
  const filled = Math.round(p.fraction * width);
  const eta =
    p.etaSec === null ? '--' : p.etaSec >= 60 ? `${Math.floor(p.etaSec / 60)}m${String(p.etaSec % 60).padStart(2, '0')}s` : `${p.etaSec}s`;
  const at = p.eventTs ? new Date(p.eventTs).toISOString().slice(0, 16).replace('T', ' ') : '';
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(p.fraction * 100).toFixed(1).padStart(5)}%  ${at}  ${p.readings.toLocaleString('en-US')} readings  ${p.readingsPerSec.toLocaleString('en-US')}/s  ETA ${eta}  incidents ${p.incidents} (${p.open} open)`;
}

async function main(): Promise<number> {
  switch (command) {
    case undefined:
    case 'help':
      process.stdout.write(HELP);
      return 0;
    case 'city': {
      const g = cityFromOptions() ?? demoCity();
      if (o.out) {
        writeFileSync(o.out, JSON.stringify(g.city));
        logger.info({ file: o.out }, 'city written');
      }
      if (o.load) {
        const { RegistryRepository } = await import('../storage/records/registry.repository.ts');
        const reg = RegistryRepository.open(config.dataDir);
        reg.loadCity(g.city, g.secrets);
        reg.close();
        logger.info({ dataDir: config.dataDir }, 'city loaded into the registry');
      }
      process.stdout.write(`${summary(g.city)}\n`);
      return 0;
    }
    case 'fleet': {
      const g = cityFromOptions() ?? (await cityFromRegistry()) ?? demoCity();
      // svc-sim's own secret: SERVICE_SECRET_SIM, or derived from the master key (SERVICE_SECRET or DATA_DIR's).
      const shared = o.shared
        ? {
            username: 'svc-sim',
            password:
              process.env.SERVICE_SECRET_SIM || serviceSecretFor(serviceMasterSecret(config.dataDir, config.serviceSecret), 'svc-sim'),
            clientId: 'svc-sim-cli',
          }
        : undefined;
      const fleet = startFleet({
        city: g.city,
        secrets: g.secrets,
        mqttUrl: config.mqttUrl,
        speed: num(o.speed) ?? 60,
        logger,
        connectionMode: shared ? 'shared' : 'per-device',
        ...(shared ? { shared } : {}),
      });
      await fleet.ready;
      const timer = setInterval(() => logger.info(fleet.stats(), 'fleet'), 10_000);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(timer);
      await fleet.stop();
      return 0;
    }
    case 'scenario': {
      if (!arg) throw new Error('scenario: a file is required');
      const r = await runScenario(loadScenario(arg), { mode: o.direct ? 'direct' : 'pipeline', logger });
      process.stdout.write(`${r.text}\n  ${r.readings} readings in ${(r.wallMs / 1000).toFixed(1)} s\n`);
      return r.ok ? 0 : 1;
    }
    case 'export': {
      if (!o.scenario || !o.out) throw new Error('export: --scenario and --out are required');
      const s = loadScenario(o.scenario);
      const g = scenarioCity(s);
      const model = new ThermalModel({
        city: g.city,
        policy: scenarioPolicy(s),
        start: s.start,
        faults: s.faults,
        ...(s.weather ? { weather: s.weather } : {}),
      });
      const n = await writeReadings(o.out, o.out.endsWith('.csv') ? 'csv' : 'lp', simulatedReadings(model, s.start, s.end));
      process.stdout.write(`${n} readings written to ${o.out}\n`);
      return 0;
    }
    case 'replay': {
      if (!arg) throw new Error('replay: a source is required (file or "influx")');
      const g = cityFromOptions() ?? (await cityFromRegistry());
      if (!g) throw new Error('replay: no city (use --scenario, --seed or a DATA_DIR with a registry)');
      let source: ReplaySource;
      if (arg === 'influx') {
        if (!config.influx) throw new Error('replay influx: INFLUX_URL is not set');
        if (!o.from || !o.to) throw new Error('replay influx: --from and --to are required');
        source = { kind: 'influx', ...config.influx, from: toMs(o.from), to: toMs(o.to) };
      } else source = { kind: arg.endsWith('.csv') ? 'csv' : 'lp', path: arg };
      const events: string[] = [];
      const tty = process.stderr.isTTY;
      let lastLog = 0;
      const r = await runReplay(
        {
          source,
          city: g.city,
          policy: policyForCity(g.city.policyCity),
          ...(o.speed ? { speed: Number(o.speed) } : {}),
          onIncident: (e: IncidentEvent) => {
            if (o.out) events.push(JSON.stringify(e));
          },
        },
        (p) => {
          if (tty) process.stderr.write(`\r${bar(p)}\u001b[K${p.done ? '\n' : ''}`);
          else if (p.done || Date.now() - lastLog > 5000) {
            lastLog = Date.now();
            process.stderr.write(`${bar(p)}\n`);
          }
        },
      );
      if (o.out) writeFileSync(o.out, events.length ? `${events.join('\n')}\n` : '');
      process.stdout.write(
        `${r.readings} readings (${r.unknown} of unknown devices skipped), ${r.events} incident events, ${r.incidents.length} incidents in ${(r.wallMs / 1000).toFixed(1)} s\ndigest ${r.digest}\n`,
      );
      return 0;
    }
    default:
      process.stderr.write(`unknown command ${command}\n\n${HELP}`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
