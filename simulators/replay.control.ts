/**
 * The engineer console's replay (dashboard → API → here): a scenario file from scenarios/,
 * or a recorded CSV / line-protocol file under the replay directory, run through the same
 * rules engine at the chosen speed. Runs are sandboxed: their own city and engine, so a
 * training run never touches the live registry, readings or orders. Progress and the
 * incidents it produces go back to the caller as they appear.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import type { ReplayProgress as LiveProgress } from '../domain/events.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import type { City } from '../domain/topology.schema.ts';
import { runReplay, type ReplaySource } from './replay.ts';
import { loadScenario } from './scenario.ts';
import { scenarioCity, scenarioModel, scenarioPolicy } from './scenario.runner.ts';

export interface ReplayControlOptions {
  /** Folder of scenario JSON files (scenarios/). */
  readonly scenariosDir: string;
  /** Folder recorded files may be read from; paths outside it are refused. */
  readonly filesDir?: string;
  /** City that recorded files are replayed against (the live registry's). */
  readonly city: () => City;
  readonly onIncident: (runId: string, e: IncidentEvent) => void;
  readonly onError?: (runId: string, err: unknown) => void;
}

export interface ReplayControlImpl {
  scenarios(): string[];
  start(input: { readonly scenario?: string; readonly file?: string; readonly speed: number }, onProgress: (p: LiveProgress) => void): { runId: string; total?: number };
  stop(runId: string): boolean;
}

/** Progress is reported in per-mille of the run's event-time span. */
const TOTAL = 1000;

export function createReplayControl(o: ReplayControlOptions): ReplayControlImpl {
  const runs = new Map<string, AbortController>();
  const scenarioFile = (name: string) => join(o.scenariosDir, `${basename(name)}.json`);
  return {
    scenarios() {
      if (!existsSync(o.scenariosDir)) return [];
      return readdirSync(o.scenariosDir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -'.json'.length))
        .sort();
    },
    start(input, onProgress) {
      let source: ReplaySource;
      let city: City;
      let policy;
      if (input.scenario) {
        const file = scenarioFile(input.scenario);
        if (!existsSync(file)) throw Object.assign(new Error(`no scenario ${input.scenario}`), { statusCode: 404 });
        const s = loadScenario(file);
        const g = scenarioCity(s);
        policy = scenarioPolicy(s);
        city = g.city;
        source = { kind: 'simulation', model: scenarioModel(s, g, policy), from: s.start, to: s.end };
      } else {
        const dir = resolve(o.filesDir ?? '.');
        const path = resolve(dir, input.file ?? '');
        // Only files inside the replay folder: the API must not become a file reader.
        if (!path.startsWith(dir + sep) || !existsSync(path)) throw Object.assign(new Error('no such recorded file'), { statusCode: 404 });
        source = { kind: path.endsWith('.csv') ? 'csv' : 'lp', path };
        city = o.city();
      }
      const runId = randomUUID();
      const ac = new AbortController();
      runs.set(runId, ac);
      void runReplay(
        { source, city, policy, speed: input.speed, signal: ac.signal, progressEveryMs: 250, onIncident: (e) => o.onIncident(runId, e) },
        (p) =>
          onProgress({
            runId,
            done: Math.round(p.fraction * TOTAL),
            total: TOTAL,
            ...(p.etaSec !== null ? { etaMs: p.etaSec * 1000 } : {}),
            finished: p.done,
          }),
      )
        .then((r) => {
          if (r.aborted) onProgress({ runId, done: TOTAL, total: TOTAL, finished: true });
        })
        .catch((err: unknown) => {
          o.onError?.(runId, err);
          onProgress({ runId, done: TOTAL, total: TOTAL, finished: true });
        })
        .finally(() => runs.delete(runId));
      return { runId, total: TOTAL };
    },
    stop(runId) {
      const ac = runs.get(runId);
      if (!ac) return false;
      ac.abort();
      return true;
    },
  };
}
