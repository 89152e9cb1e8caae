/**
 * The engineer's replay workspace: the run list (GET /replay, so it survives navigation) and
 * the selected run's sandboxed city in a CityState of its own — the same state the live map
 * uses, but never the live one, so a replay's stations and incidents cannot mix with live data.
 * While a run is going it is re-read on an interval (its results are kept by the server).
 */
import type { ReplayCity, ReplayRunInfo, ScenarioInfo } from './api.ts';
import { api } from './api.ts';
import { CityState } from './city.svelte.ts';
import { city as liveCity } from './city.svelte.ts';

export class ReplayWorkspace {
  runs = $state.raw<readonly ReplayRunInfo[]>([]);
  scenarios = $state.raw<readonly ScenarioInfo[]>([]);
  current = $state.raw<ReplayCity | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  /** The selected run's city, for CityMap and the station view. */
  readonly city = new CityState();
  #cityOf: string | undefined;

  async loadScenarios(): Promise<void> {
    try {
      this.scenarios = await api.scenarios();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  async loadRuns(): Promise<void> {
    try {
      this.runs = await api.replayRuns();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  /** Read the run's city; the map's stations are set once per run, incidents and counts every time. */
  async loadRun(runId: string): Promise<void> {
    try {
      const c = await api.replayCity(runId);
      this.city.policy = liveCity.policy;
      if (this.#cityOf !== runId) {
        this.city.setStations(c.stations);
        this.#cityOf = runId;
      }
      this.city.setIncidents(c.incidents);
      for (const s of this.city.stations) {
        const n = c.counts[s.station.id];
        if (!n) continue;
        s.monitoredApartments = n.monitored;
        s.coldApartments = n.cold;
        if (n.monitored > 0) s.seen = true;
      }
      this.current = c;
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  /** Poll the run list, and the run while it is going; returns the teardown. */
  follow(runId: string | undefined, everyMs = 1000): () => void {
    void this.loadRuns();
    if (runId) void this.loadRun(runId);
    const h = setInterval(() => {
      void this.loadRuns();
      if (runId && (this.current?.run.id !== runId || this.current.run.status === 'running')) void this.loadRun(runId);
    }, everyMs);
    return () => clearInterval(h);
  }
}

export const replay = new ReplayWorkspace();
