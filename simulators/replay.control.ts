/**
 * The engineer console's replay (dashboard → API → here): a scenario file from scenarios/,
 * or a recording (CSV or line protocol) uploaded through the page into the replay folder,
 * run through the same rules engine at the chosen speed. Runs are sandboxed: their own city
 * and engine, so a training run never touches the live registry, readings or orders; what
 * they find is kept per run (replay.runs.ts) for the console's map, station and building views.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseCsvLine } from '../domain/csv.ts';
import type { ReplayProgress as LiveProgress } from '../domain/events.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { policyForCity } from '../domain/policy.ts';
import type { ReplayCity, ReplayRun, ReplayStation, ReplayUpload, ScenarioInfo } from '../domain/replay.schema.ts';
import type { City } from '../domain/topology.schema.ts';
import { runReplay, type ReplaySource } from './replay.ts';
import { ReplayRuns } from './replay.runs.ts';
import { loadScenario } from './scenario.ts';
import { scenarioCity, scenarioModel, scenarioPolicy } from './scenario.runner.ts';

export interface ReplayControlOptions {
  /** Folder of scenario JSON files (scenarios/). */
  readonly scenariosDir: string;
  /** Folder uploaded recordings are kept in (DATA_DIR/replay). */
  readonly filesDir: string;
  /** City that recordings are replayed against (the live registry's, copied at the start of a run). */
  readonly city: () => City;
  readonly onIncident?: (runId: string, e: IncidentEvent) => void;
  readonly onError?: (runId: string, err: unknown) => void;
  /** Wall clock for the run list's start times. */
  readonly now?: () => number;
}

export interface ReplayControlImpl {
  scenarios(): ScenarioInfo[];
  start(
    input: { readonly scenario?: string; readonly file?: string; readonly speed: number },
    onProgress: (p: LiveProgress) => void,
  ): { runId: string; total?: number };
  stop(runId: string): boolean;
  runs(): ReplayRun[];
  runCity(runId: string): ReplayCity | undefined;
  runStation(runId: string, stationId: string): ReplayStation | undefined;
  /** Keep an uploaded recording; the format is sniffed from its first line. */
  upload(body: Buffer, name?: string): ReplayUpload;
}

/** Progress is reported in per-mille of the run's event-time span. */
const TOTAL = 1000;

const notFound = (msg: string) => Object.assign(new Error(msg), { statusCode: 404 });

/** CSV when the first non-comment line is a header naming ts and deviceId; else line protocol. */
export function sniffFormat(text: string): 'csv' | 'lp' | undefined {
  const first = text
    .split('\n')
    .find((l) => l.trim() && !l.startsWith('#'))
    ?.trim();
  if (!first) return undefined;
  const cols = parseCsvLine(first).map((c) => c.trim());
  if (cols.includes('ts') && cols.includes('deviceId')) return 'csv';
  return /^[A-Za-z_][\w-]*(,[^ ]+)? [^ ]+=/.test(first) ? 'lp' : undefined;
}

export function createReplayControl(o: ReplayControlOptions): ReplayControlImpl {
  const active = new Map<string, AbortController>();
  const runs = new ReplayRuns();
  const now = o.now ?? Date.now;
  const scenarioFile = (name: string) => join(o.scenariosDir, `${basename(name)}.json`);
  const info = (id: string): ScenarioInfo => {
    const s = loadScenario(scenarioFile(id));
    const en = { title: s.name, summary: s.description ?? s.name };
    return {
      id,
      title: s.title ?? { 'zh-CN': en.title, en: en.title },
      summary: s.summary ?? { 'zh-CN': en.summary, en: en.summary },
      start: s.start,
      end: s.end,
    };
  };
  return {
    scenarios() {
      if (!existsSync(o.scenariosDir)) return [];
      return readdirSync(o.scenariosDir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -'.json'.length))
        .sort()
        .map(info);
    },
    start(input, onProgress) {
      let source: ReplaySource;
      let city: City;
      let policy;
      let title: ScenarioInfo['title'];
      let fromTs: number;
      if (input.scenario) {
        const file = scenarioFile(input.scenario);
        if (!existsSync(file)) throw notFound(`no scenario ${input.scenario}`);
        const s = loadScenario(file);
        const g = scenarioCity(s);
        policy = scenarioPolicy(s);
        city = g.city;
        title = info(input.scenario).title;
        fromTs = s.start;
        source = { kind: 'simulation', model: scenarioModel(s, g, policy), from: s.start, to: s.end };
      } else {
        // Only names of files uploaded here: the API must not become a file reader.
        const name = basename(input.file ?? '');
        const path = join(o.filesDir, name);
        if (!name || name !== input.file || !existsSync(path)) throw notFound('no such recorded file');
        source = { kind: name.endsWith('.csv') ? 'csv' : 'lp', path };
        city = o.city();
        title = { 'zh-CN': `录制文件 ${name}`, en: `Recording ${name}` };
        fromTs = 0;
      }
      const runId = randomUUID();
      const ac = new AbortController();
      active.set(runId, ac);
      const standardC = (policy ?? policyForCity(city.policyCity)).comfort.standardC; // N2
      runs.add({
        id: runId,
        ...(input.scenario ? { scenario: input.scenario } : { file: input.file }),
        title,
        speed: input.speed,
        startedAt: now(),
        city,
        standardC,
        fromTs,
      });
      void runReplay(
        {
          source,
          city,
          policy,
          speed: input.speed,
          signal: ac.signal,
          progressEveryMs: 250,
          onReading: (r) => runs.reading(runId, r),
          onIncident: (e) => {
            runs.incident(runId, e);
            o.onIncident?.(runId, e);
          },
        },
        (p) => {
          const done = Math.round(p.fraction * TOTAL);
          const etaMs = p.etaSec !== null ? p.etaSec * 1000 : undefined;
          runs.progress(runId, {
            done,
            total: TOTAL,
            eventTs: p.eventTs,
            readings: p.readings,
            open: p.open,
            ...(etaMs !== undefined ? { etaMs } : {}),
          });
          onProgress({ runId, done, total: TOTAL, ...(etaMs !== undefined ? { etaMs } : {}), finished: p.done });
        },
      )
        .then((r) => {
          runs.finish(runId, r.aborted ? 'stopped' : 'finished');
          if (r.aborted) onProgress({ runId, done: TOTAL, total: TOTAL, finished: true });
        })
        .catch((err: unknown) => {
          o.onError?.(runId, err);
          runs.finish(runId, 'failed', err instanceof Error ? err.message : String(err));
          onProgress({ runId, done: TOTAL, total: TOTAL, finished: true });
        })
        .finally(() => active.delete(runId));
      return { runId, total: TOTAL };
    },
    stop(runId) {
      const ac = active.get(runId);
      if (!ac) return false;
      ac.abort();
      return true;
    },
    runs: () => runs.list(),
    runCity: (id) => runs.city(id),
    runStation: (id, stationId) => runs.station(id, stationId),
    upload(body, name) {
      const format = sniffFormat(body.subarray(0, 64 * 1024).toString('utf8'));
      if (!format) throw Object.assign(new Error('not a CSV (ts,deviceId,… header) or line-protocol recording'), { statusCode: 400 });
      mkdirSync(o.filesDir, { recursive: true });
      // A fresh name: an upload never overwrites another one, whatever the client called it.
      const stem =
        (name ?? 'upload')
          .replace(/\.[^.]*$/, '')
          .replace(/[^A-Za-z0-9_-]/g, '')
          .slice(0, 40) || 'upload';
      const file = `${stem}-${randomBytes(4).toString('hex')}.${format}`;
      writeFileSync(join(o.filesDir, file), body, { mode: 0o600 });
      return { file, bytes: body.length, format };
    },
  };
}
