/**
 * Names for ids, so people read 海淀1号换热站 or 北京市…1号楼 1-101 instead of st-0001 or
 * b0001-01-1-01-01: stations from the live city, offices and heat sources listed once,
 * buildings and apartments fetched on first use and cached. Reading a name subscribes to
 * `version`, so a label fills in when its record arrives. Ids stay where the id is the thing
 * (a device number).
 */
import type { Apartment, Building, HeatSource, Incident, Office } from './api.ts';
import { api } from './api.ts';
import { city } from './city.svelte.ts';

class Names {
  version = $state(0);
  readonly #offices = new Map<string, Office>();
  readonly #sources = new Map<string, HeatSource>();
  readonly #buildings = new Map<string, Building>();
  readonly #apartments = new Map<string, Apartment>();
  readonly #asked = new Set<string>();

  #once(key: string, load: () => Promise<void>): void {
    if (this.#asked.has(key)) return;
    this.#asked.add(key);
    load().then(
      () => this.version++,
      () => this.#asked.delete(key), // try again on the next read
    );
  }

  station(id: string): string {
    void this.version;
    // byId is a plain Map: reading the reactive station list makes a label fill in when the city arrives.
    void city.stations;
    return city.byId.get(id)?.station.name ?? id;
  }

  office(id: string): string {
    void this.version;
    const o = this.#offices.get(id);
    if (!o) this.#once('offices', async () => (await api.offices()).forEach((x) => this.#offices.set(x.id, x)));
    return o?.name ?? id;
  }

  source(id: string): string {
    void this.version;
    const s = this.#sources.get(id);
    if (!s) this.#once('sources', async () => (await api.sources()).forEach((x) => this.#sources.set(x.id, x)));
    return s?.name ?? id;
  }

  building(id: string): string {
    void this.version;
    const b = this.#buildings.get(id);
    if (!b) this.#once(`b:${id}`, async () => void this.#buildings.set(id, await api.building(id)));
    return b?.address ?? id;
  }

  apartment(id: string): string {
    void this.version;
    const a = this.#apartments.get(id);
    if (!a) {
      this.#once(`a:${id}`, async () => void this.#apartments.set(id, await api.apartment(id)));
      return id;
    }
    return `${this.building(a.buildingId)} ${a.number}`;
  }

  /** What an incident is about, by name. */
  subject(i: Pick<Incident, 'subjectType' | 'subjectId'>): string {
    switch (i.subjectType) {
      case 'station':
        return this.station(i.subjectId);
      case 'building':
        return this.building(i.subjectId);
      case 'apartment':
        return this.apartment(i.subjectId);
      case 'source':
        return this.source(i.subjectId);
      default:
        return i.subjectId; // a device: its number is its name
    }
  }
}

export const names = new Names();
