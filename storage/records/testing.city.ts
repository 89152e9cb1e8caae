/**
 * Test fixture: the network above the buildings of a one-station test city — one heat
 * source, one office, station st-1 (branch br-1, radiators), all at Beijing — around the
 * buildings, apartments, rooms and devices a test brings. Used by ingest/testing.fixture.ts
 * and the registry's spec; not used by running code.
 */
import type { City } from '../../domain/topology.schema.ts';

export const FIX_LOCATION = { lat: 39.9, lon: 116.4 } as const;

export function oneStationCity(name: string, parts: Pick<City, 'buildings' | 'apartments' | 'rooms' | 'devices'>): City {
  return {
    seed: 1,
    name,
    policyCity: 'beijing',
    sources: [{ id: 'src-1', name: '热源', location: { ...FIX_LOCATION } }],
    offices: [{ id: 'of-1', name: '供热所一' }],
    stations: [
      {
        id: 'st-1',
        name: '换热站一',
        officeId: 'of-1',
        sourceId: 'src-1',
        branchId: 'br-1',
        location: { ...FIX_LOCATION },
        system: 'radiator',
      },
    ],
    ...parts,
  };
}
