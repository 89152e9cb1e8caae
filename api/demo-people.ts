/**
 * Demo people for the demo city (DEMO=1): one per role with known passwords, so the
 * dashboard and browser tests can sign in. Documented in docs/api.md. Idempotent.
 */
import type { Clock } from '../domain/clock.ts';
import { systemClock } from '../domain/clock.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { PeopleRepository, type NewPerson } from './people.repository.ts';

/** Every demo account uses this password (documented; demo only). */
export const DEMO_PASSWORD = 'heatwatch-demo';

export interface DemoAccount {
  readonly username: string;
  readonly password: string;
  readonly role: NewPerson['role'];
  readonly officeId?: string;
  readonly apartmentId?: string;
}

/**
 * dispatcher, manager, engineer; per office `staff-<officeId>` and `head-<officeId>`;
 * residents `resident1`… in `residentApartments` (the demo day's, all with sensors), else in the
 * first `residents` apartments (one per building where possible).
 */
export function seedDemoPeople(
  registry: RegistryRepository,
  opts: { clock?: Clock; residents?: number; residentApartments?: readonly string[] } = {},
): DemoAccount[] {
  const people = new PeopleRepository(registry.db);
  const now = (opts.clock ?? systemClock).now();
  // Display names in Chinese: the demo's people are a Chinese heating company's (names are data, shown as they are in both UI languages).
  const accounts: (DemoAccount & { name: string })[] = [
    { username: 'dispatcher', name: '王敏（演示调度员）', role: 'dispatcher', password: DEMO_PASSWORD },
    { username: 'manager', name: '李强（演示公司经理）', role: 'manager', password: DEMO_PASSWORD },
    { username: 'deputy-gm', name: '赵刚（演示分管经理）', role: 'deputy_gm', password: DEMO_PASSWORD },
    { username: 'gm', name: '陈静（演示总经理）', role: 'general_manager', password: DEMO_PASSWORD },
    { username: 'engineer', name: '刘洋（演示工程师）', role: 'engineer', password: DEMO_PASSWORD },
  ];
  for (const o of registry.listOffices()) {
    accounts.push({ username: `staff-${o.id}`, name: `${o.name}值班员`, role: 'station_staff', officeId: o.id, password: DEMO_PASSWORD });
    accounts.push({ username: `head-${o.id}`, name: `${o.name}所长`, role: 'station_head', officeId: o.id, password: DEMO_PASSWORD });
  }
  // The demo day names apartments with sensors (one of them the cold one); otherwise the first of each building.
  const apartments: string[] = [...(opts.residentApartments ?? [])];
  for (const b of opts.residentApartments?.length ? [] : registry.listBuildings()) {
    const first = registry.listApartments(b.id)[0];
    if (first) apartments.push(first.id);
    if (apartments.length >= (opts.residents ?? 3)) break;
  }
  apartments.forEach((apartmentId, i) =>
    accounts.push({ username: `resident${i + 1}`, name: `演示住户${i + 1}`, role: 'resident', apartmentId, password: DEMO_PASSWORD }),
  );
  for (const a of accounts) if (!people.byUsername(a.username)) people.create(a, now);
  return accounts.map(({ name: _n, ...a }) => a);
}
