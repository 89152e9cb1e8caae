/**
 * Run the platform's services as real child processes (`node --import tsx <service>/server.ts`), each
 * with its own environment, so chaos tests can SIGKILL, SIGSTOP and restart them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './ports.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * `node --import tsx <file>` rather than the `tsx` CLI: the CLI runs the script in a child
 * process, so a SIGKILL or SIGSTOP sent to it would miss the service itself (and orphan it).
 */
const nodeArgs = (file: string) => ['--import', 'tsx', file];

export type ServiceName = 'broker' | 'ingest' | 'api';

export interface ServiceProcess {
  readonly name: ServiceName;
  /** The process's recent stdout and stderr, since its last start(). */
  readonly log: () => string;
  /** The running process's id (e.g. for CPU accounting in a bench). */
  readonly pid: () => number | undefined;
  /** How the last process ended (both null while it runs). */
  readonly exit: () => { code: number | null; signal: NodeJS.Signals | null };
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  pause(): void;
  resume(): void;
  running(): boolean;
}

/**
 * @param ready resolves when the service is usable (e.g. its port answers).
 * @param extraNodeArgs node flags before the script (e.g. a bench's `--cpu-prof`, which NODE_OPTIONS refuses).
 */
export function serviceProcess(
  name: ServiceName,
  env: Record<string, string>,
  ready: () => Promise<boolean>,
  extraNodeArgs: readonly string[] = [],
): ServiceProcess {
  let child: ChildProcess | undefined;
  let out = '';
  const append = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  return {
    name,
    log: () => out,
    pid: () => child?.pid,
    exit: () => ({ code: child?.exitCode ?? null, signal: child?.signalCode ?? null }),
    async start() {
      out = '';
      child = spawn(process.execPath, [...extraNodeArgs, ...nodeArgs(join(root, name, 'server.ts'))], {
        cwd: root,
        // The services' own health ports are off unless a test asks (parallel tests would share 8081/8082).
        env: { ...process.env, LOG_LEVEL: 'warn', BROKER_HTTP_PORT: '0', INGEST_HTTP_PORT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', append);
      child.stderr?.on('data', append);
      const c = child;
      // 240 s: on a machine shared by several sessions (load average 18 on 2 cores, issue 17)
      // the API's cold start alone took more than 90 s; this is how long a start may take, not a check.
      await waitFor(
        async () => {
          if (c.exitCode !== null) throw new Error(`${name} exited with ${c.exitCode}: ${out}`);
          return ready();
        },
        { timeoutMs: 240_000, intervalMs: 100, what: `${name} ready` },
      );
    },
    async kill(signal = 'SIGKILL') {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((res) => {
        // A clean stop gets a grace period; past it the service is killed (tests must not hang).
        const grace = signal === 'SIGKILL' ? undefined : setTimeout(() => c.kill('SIGKILL'), 10_000);
        c.once('exit', () => {
          if (grace) clearTimeout(grace);
          res();
        });
        if (signal !== 'SIGKILL') c.kill('SIGCONT');
        c.kill(signal);
      });
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
  };
}

/**
 * The broker alone (`broker/server.ts`) on DATA_DIR and a TCP port on 127.0.0.1, on-disk
 * sessions, no Redis, no TLS, no WebSocket listener: for tests that SIGKILL it. Telemetry is
 * routed over MQTT (INGEST_FEED=mqtt) unless `feed` says 'spool'; `env` adds to (or
 * overrides) that environment, e.g. a fault wrapper's NODE_OPTIONS.
 */
export function brokerProcess(
  dataDir: string,
  port: number,
  serviceSecret: string /* the master key */,
  feed: 'mqtt' | 'spool' = 'mqtt',
  env: Record<string, string> = {},
): ServiceProcess {
  return serviceProcess(
    'broker',
    {
      DATA_DIR: dataDir,
      MQTT_PORT: String(port),
      MQTT_WS_PORT: '0',
      HOST: '127.0.0.1',
      SERVICE_SECRET: serviceSecret,
      REDIS_URL: '',
      TLS_CERT_FILE: '',
      TLS_KEY_FILE: '',
      INGEST_FEED: feed,
      ...env,
    },
    () => portOpen(port),
  );
}

/** True when something accepts TCP connections on the port. */
export async function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * The platform as separate processes (broker, ingest, API) on one temporary DATA_DIR, free
 * ports and a real influxd, with a generated city loaded before anything starts. For the
 * chaos suite and the end-to-end benches: each service can be SIGKILLed, paused and
 * restarted on its own, exactly as in production.
 */
export interface ClusterOptions {
  /** City to load into the registry first (simulators/city.generator.ts). */
  readonly city: { readonly city: import('../../domain/topology.schema.ts').City; readonly secrets: ReadonlyMap<string, string> };
  /** influxd URL (tests/harness/influxd.ts); unset → the embedded store. */
  readonly influxUrl?: string;
  readonly influxDb?: string;
  /** Extra environment per service (e.g. INGEST_SPOOL_MAX for the ingest). */
  readonly env?: Partial<Record<ServiceName, Record<string, string>>>;
  readonly adminPassword?: string;
}

export interface Cluster {
  readonly dataDir: string;
  readonly mqttPort: number;
  readonly mqttUrl: string;
  readonly httpPort: number;
  readonly httpUrl: string;
  /** The master key given to every service as SERVICE_SECRET. */
  readonly serviceSecret: string;
  /** Each service account's own MQTT password, derived from it. */
  readonly serviceSecrets: import('../../storage/records/service-accounts.ts').ServiceSecrets;
  readonly adminPassword: string;
  readonly broker: ServiceProcess;
  readonly ingest: ServiceProcess;
  readonly api: ServiceProcess;
  /** Stop every service (SIGTERM, then the directory is removed). */
  stop(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { randomBytes } = await import('node:crypto');
  const { freePort } = await import('./ports.ts');
  const { RegistryRepository } = await import('../../storage/records/registry.repository.ts');
  const { ensureServiceAccounts } = await import('../../storage/records/service-accounts.ts');

  const dataDir = mkdtempSync(join(tmpdir(), 'heatwatch-cluster-'));
  const serviceSecret = randomBytes(18).toString('base64url');
  const adminPassword = opts.adminPassword ?? 'admin-cluster-password';
  const registry = RegistryRepository.open(dataDir);
  registry.loadCity(opts.city.city, opts.city.secrets);
  const serviceSecrets = ensureServiceAccounts(registry, dataDir, serviceSecret);
  registry.close();

  const mqttPort = await freePort();
  const httpPort = await freePort();
  const base: Record<string, string> = {
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    MQTT_PORT: String(mqttPort),
    MQTT_WS_PORT: String(await freePort()),
    MQTT_TLS_PORT: String(await freePort()),
    MQTT_WSS_PORT: String(await freePort()),
    HTTP_PORT: String(httpPort),
    MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
    SERVICE_SECRET: serviceSecret,
    ADMIN_PASSWORD: adminPassword,
    DEMO: '1',
    LOG_LEVEL: 'warn',
    ...(opts.influxUrl ? { INFLUX_URL: opts.influxUrl, INFLUX_DB: opts.influxDb ?? 'heat' } : {}),
  };
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const broker = serviceProcess('broker', { ...base, ...opts.env?.broker }, () => portOpen(mqttPort));
  // The ingest has no port: it is ready once it has started (its MQTT session is persistent,
  // so anything published meanwhile waits in the broker).
  const ingest = serviceProcess('ingest', { ...base, ...opts.env?.ingest }, () => Promise.resolve(true));
  const api = serviceProcess('api', { ...base, ...opts.env?.api }, async () => {
    const r = await fetch(`${httpUrl}/api/v1/health`);
    return r.ok;
  });
  const all = [broker, ingest, api];
  try {
    for (const svc of all) {
      const t0 = Date.now();
      await svc.start();
      if (process.env.CLUSTER_DEBUG) console.log(`${svc.name} ready in ${Date.now() - t0} ms`);
    }
  } catch (e) {
    for (const s of all) await s.kill();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    dataDir,
    mqttPort,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    httpPort,
    httpUrl,
    serviceSecret,
    serviceSecrets,
    adminPassword,
    broker,
    ingest,
    api,
    async stop() {
      for (const s of [api, ingest, broker]) await s.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
