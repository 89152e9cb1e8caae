/**
 * Dashboard bench (issue 7): in headless Chromium, with a city of 5,000 stations and 100,000
 * apartments served by a tiny local HTTP + socket.io server (synthetic data, same REST shapes
 * and socket events as the API), measure
 *  - time to a usable map (navigation → stations drawn and the map interactive), target ≤ 3 s;
 *  - frames per second while 1,000 apartment updates/s arrive over socket.io, target ≥ 30,
 *    beside the FPS of an empty page in the same browser (baseline).
 * The built dashboard (dashboard/dist) is built first so the bench measures the current code.
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { Server as IoServer } from 'socket.io';
import type { Browser } from 'playwright-core';
import type { ClientToServerEvents, LiveReading, ServerToClientEvents } from '../domain/events.ts';
import type { Incident } from '../domain/incident.schema.ts';
import { defaultPolicy } from '../domain/policy.ts';
import { mulberry32 } from '../domain/random.ts';
import type { HeatSource, Station } from '../domain/topology.schema.ts';
import { freePort } from '../tests/harness/ports.ts';
import { DASHBOARD_DIST, buildDashboard, launchChromium } from '../tests/harness/browser.ts';
import type { BenchOptions, BenchRow } from './types.ts';

const dist = DASHBOARD_DIST;

export interface SyntheticCity {
  readonly sources: HeatSource[];
  readonly stations: Station[];
  /** apartment id → station id */
  readonly apartmentStation: string[];
  readonly incidents: Incident[];
}

export function syntheticCity(stations: number, apartments: number, seed = 7): SyntheticCity {
  const r = mulberry32(seed);
  const centre = { lat: 39.9, lon: 116.4 };
  const sources: HeatSource[] = Array.from({ length: 12 }, (_, i) => ({
    id: `src-${i + 1}`,
    name: `热源${i + 1}`,
    location: { lat: centre.lat + (r() - 0.5) * 0.5, lon: centre.lon + (r() - 0.5) * 0.7 },
  }));
  const list: Station[] = [];
  // Each source feeds 6 branches running outwards; stations sit along their branch, as in a real network.
  for (let i = 0; i < stations; i++) {
    const src = sources[i % sources.length]!;
    const branch = Math.floor(i / sources.length) % 6;
    const angle = (branch / 6) * 2 * Math.PI + (i % sources.length);
    const along = 0.01 + r() * 0.12;
    list.push({
      id: `st-${String(i + 1).padStart(4, '0')}`,
      name: `${i + 1}号换热站`,
      officeId: `off-${(i % 40) + 1}`,
      sourceId: src.id,
      branchId: `${src.id}-br${branch}`,
      location: {
        lat: src.location.lat + Math.sin(angle) * along + (r() - 0.5) * 0.01,
        lon: src.location.lon + Math.cos(angle) * along * 1.3 + (r() - 0.5) * 0.013,
      },
      system: r() < 0.7 ? 'radiator' : 'floor',
    });
  }
  const apartmentStation = Array.from({ length: apartments }, (_, i) => list[i % stations]!.id);
  const incidents: Incident[] = list
    .filter((_, i) => i % 97 === 0)
    .map((s, i) => ({
      id: `station_fault:${s.id}:0`,
      kind: 'station_fault',
      subjectType: 'station',
      subjectId: s.id,
      status: 'open',
      startTs: Date.now() - i * 60_000,
      severity: 'major',
      cause: 'station',
      evidence: { pumpHz: 0 },
      stationId: s.id,
    }));
  return { sources, stations: list, apartmentStation, incidents };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

export interface SyntheticServer {
  readonly url: string;
  readonly io: IoServer<ClientToServerEvents, ServerToClientEvents>;
  close(): Promise<void>;
}

/** Serve dashboard/dist and the few REST routes the map needs, plus socket.io. */
export async function startSyntheticServer(city: SyntheticCity): Promise<SyntheticServer> {
  const json = (res: ServerResponse, body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const routes: Record<string, unknown> = {
    '/api/v1/stations': city.stations,
    '/api/v1/sources': city.sources,
    '/api/v1/incidents': city.incidents,
    '/api/v1/policy': defaultPolicy,
  };
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/blank') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>blank</title><p>blank</p>');
      return;
    }
    if (path === '/api/v1/auth/login') return json(res, { token: 'bench', user: { id: 'bench', role: 'dispatcher' } });
    if (path.startsWith('/api/')) {
      if (path in routes) return json(res, routes[path]);
      res.writeHead(404).end('{}');
      return;
    }
    const file = normalize(join(dist, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dist)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  };
  const http: HttpServer = createServer((req, res) => void handler(req, res));
  const io = new IoServer<ClientToServerEvents, ServerToClientEvents>(http);
  io.on('connection', (s) => {
    s.on('follow', (_room, ack) => ack(true));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    io,
    close: async () => {
      await io.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/**
 * Frames counted by requestAnimationFrame over `ms` in the page. A string, not a function:
 * tsx's transform would add helper calls the page does not have.
 */
const fpsScript = (ms: number) => `new Promise((resolve) => {
  let frames = 0;
  const t0 = performance.now();
  const tick = (t) => {
    frames++;
    if (t - t0 < ${ms}) requestAnimationFrame(tick);
    else resolve((frames * 1000) / (t - t0));
  };
  requestAnimationFrame(tick);
})`;

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const STATIONS = 5_000;
  const APARTMENTS = 100_000;
  const UPDATES_PER_S = 1_000;
  const fpsWindowMs = opts.quick ? 3_000 : 8_000;

  opts.log('building dashboard');
  await buildDashboard({ fresh: true });
  const city = syntheticCity(STATIONS, APARTMENTS);
  const server = await startSyntheticServer(city);
  let browser: Browser | undefined;
  let feed: NodeJS.Timeout | undefined;
  try {
    browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });

    // Baseline: an empty page's frame rate in the same browser.
    const blank = await ctx.newPage();
    await blank.setContent('<!doctype html><title>blank</title>');
    const baselineFps = await blank.evaluate<number>(fpsScript(fpsWindowMs));
    await blank.close();

    // Baseline for the load figure: navigating to a blank page on the same server (machine load shows here too).
    const probe = await ctx.newPage();
    const b0 = Date.now();
    await probe.goto(`${server.url}/blank`);
    const blankMs = Date.now() - b0;
    await probe.close();

    // Time to a usable map: median of several cold page loads (1 in quick mode).
    const session = JSON.stringify(JSON.stringify({ token: 'bench', user: { id: 'bench', role: 'dispatcher' } }));
    const loads: number[] = [];
    let page = await ctx.newPage();
    for (let i = 0; i < (opts.quick ? 1 : 3); i++) {
      if (i > 0) {
        await page.close();
        page = await ctx.newPage();
      }
      await page.addInitScript(`sessionStorage.setItem('heatwatch.session', ${session})`);
      const t0 = Date.now();
      await page.goto(`${server.url}/#/map`);
      await page.waitForSelector('svg[data-ready="true"] g.cluster, svg[data-ready="true"] g.station', { timeout: 30_000 });
      loads.push(Date.now() - t0);
    }
    const mapMs = loads.sort((a, b) => a - b)[Math.floor(loads.length / 2)]!;
    opts.log(`map usable after ${loads.join(', ')} ms (median ${mapMs}); blank page ${blankMs} ms`);

    // 1,000 apartment (room) updates per second, in 10 batches, around the 18 °C standard so colours flip.
    const r = mulberry32(11);
    let next = 0;
    const perBatch = UPDATES_PER_S / 10;
    feed = setInterval(() => {
      const batch: LiveReading[] = [];
      const ts = Date.now();
      for (let i = 0; i < perBatch; i++) {
        const a = next++ % APARTMENTS;
        batch.push({
          deviceId: `rs-${a}`,
          kind: 'room_sensor',
          ts,
          fields: { temp: 15 + r() * 7 },
          roomId: `ap-${a}-r1`,
          apartmentId: `ap-${a}`,
          stationId: city.apartmentStation[a]!,
        });
      }
      server.io.emit('readings', batch);
    }, 100);
    await page.waitForTimeout(1_000); // let the stream reach steady state
    const liveFps = await page.evaluate<number>(fpsScript(fpsWindowMs));
    clearInterval(feed);
    feed = undefined;
    // Sanity: the stream really reached the map (the legend counts stations with cold apartments).
    const watch = Number(await page.evaluate<string>(`document.querySelector('[data-legend="watch"] strong')?.textContent ?? '0'`));
    if (!(watch > 0)) throw new Error('live apartment updates did not reach the map');
    opts.log(
      `fps under load ${liveFps.toFixed(1)} (baseline ${baselineFps.toFixed(1)}), ${watch} stations now flagged with cold apartments`,
    );

    return [
      {
        name: 'dashboard: time to usable map (5,000 stations)',
        value: mapMs,
        unit: 'ms',
        baseline: { name: 'blank page load', value: blankMs },
        target: { kind: 'max', value: 3_000 },
        note: 'navigation → markers drawn (median of cold loads), headless Chromium 1366×768',
      },
      {
        name: 'dashboard: FPS with 1,000 apartment updates/s (100,000 apartments)',
        value: liveFps,
        unit: 'fps',
        baseline: { name: 'empty page FPS', value: baselineFps },
        target: { kind: 'min', value: 30 },
      },
    ];
  } finally {
    if (feed) clearInterval(feed);
    await browser?.close();
    await server.close();
  }
}
