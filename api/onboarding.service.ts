/**
 * Onboarding (issue 14): a utility builds its own city through the API — offices, heat
 * sources, stations with their meters, buildings, apartments with their rooms, rooms — one
 * at a time over REST or one CSV file per kind. Both go through the same validation (schema,
 * references, positions, duplicates within the file and against the registry); a CSV import
 * is all rows or none (one SQLite transaction) with a row-by-row report. After the commit the
 * change is announced on heat/v1/platform/registry (the ingest's engine also follows the
 * registry's topology_version, so a message that cannot be sent is not a change lost).
 */
import { Compile } from 'typebox/compile';
import type { ImportReport } from '../domain/api.schema.ts';
import { HeatError } from '../domain/errors.ts';
import {
  ApartmentBodySchema,
  BuildingBodySchema,
  LAYOUT_NAMES,
  LAYOUT_TEMPLATES,
  OfficeBodySchema,
  ONBOARDING_COLUMNS,
  RoomBodySchema,
  SourceBodySchema,
  StationBodySchema,
  type ApartmentBody,
  type OnboardingKind,
  type RoomInput,
  type StationBody,
} from '../domain/onboarding.schema.ts';
import { topics } from '../domain/topics.ts';
import type { Building, Device, HeatSource, Office, Room } from '../domain/topology.schema.ts';
import { newDeviceSecret } from '../storage/records/secrets.ts';
import type { ApiContext } from './context.ts';
import { parseCsv } from '../domain/csv.ts';

type RowError = ImportReport['errors'][number];
type Value = Record<string, unknown>;

const checkers = {
  offices: Compile(OfficeBodySchema),
  sources: Compile(SourceBodySchema),
  stations: Compile(StationBodySchema),
  buildings: Compile(BuildingBodySchema),
  apartments: Compile(ApartmentBodySchema),
  rooms: Compile(RoomBodySchema),
} as const;

/** The rooms an apartment gets: its own list, or its named layout's. */
function roomsOf(a: ApartmentBody): Room[] {
  const list: readonly RoomInput[] = a.rooms ?? (a.layout !== undefined ? (LAYOUT_TEMPLATES[a.layout] ?? []) : []);
  return list.map((r) => ({ id: `${a.id}-${r.suffix}`, apartmentId: a.id, name: r.name ?? r.suffix, type: r.type, areaM2: r.areaM2 }));
}

/** Schema errors as report rows (field paths dotted, e.g. `location.lat`). */
function schemaErrors(kind: OnboardingKind, v: Value, row: number): RowError[] {
  const c = checkers[kind] as unknown as {
    Check(x: unknown): boolean;
    Errors(x: unknown): { instancePath: string; message: string; params?: { requiredProperties?: string[] } }[];
  };
  if (c.Check(v)) return [];
  const out = new Map<string, RowError>(); // a union reports once per branch: one error per field
  for (const e of c.Errors(v)) {
    const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || e.params?.requiredProperties?.join(',') || '';
    if (!out.has(field)) out.set(field, { row, field, message: e.message });
  }
  return [...out.values()].slice(0, 5);
}

/**
 * Every check but the schema: references exist, ids are new (create) or known (update), an
 * apartment has rooms, fits its building and does not share a position; duplicates in the
 * batch. `values` are schema-valid.
 */
function checkRefs(
  ctx: ApiContext,
  kind: OnboardingKind,
  items: readonly { row: number; value: Value }[],
  mode: 'create' | 'update',
): RowError[] {
  const t = ctx.topology;
  const r = ctx.registry;
  const errors: RowError[] = [];
  const seen = new Set<string>();
  const positions = new Set<string>();
  const newRooms = new Set<string>();
  const newDevices = new Set<string>();
  for (const { row, value } of items) {
    const err = (field: string, message: string) => errors.push({ row, field, message });
    const id = value.id as string;
    if (seen.has(id)) err('id', `duplicate ${id} in the file`);
    seen.add(id);
    const exists = t.exists(kind, id);
    if (mode === 'create' && exists) err('id', `${id} exists (PUT /api/v1/${kind}/${id} changes it)`);
    if (mode === 'update' && !exists) err('id', `no such ${kind.slice(0, -1)} ${id}`);
    if (kind === 'stations') {
      const s = value as StationBody;
      if (!t.exists('offices', s.officeId)) err('officeId', `no such office ${s.officeId}`);
      if (!t.exists('sources', s.sourceId)) err('sourceId', `no such heat source ${s.sourceId}`);
      for (const m of s.meters ?? []) {
        if (r.getDevice(m.id) || newDevices.has(m.id)) err('meters', `device ${m.id} exists`);
        newDevices.add(m.id);
      }
    } else if (kind === 'buildings') {
      const b = value as Building;
      if (!t.exists('stations', b.stationId)) err('stationId', `no such station ${b.stationId}`);
    } else if (kind === 'apartments') {
      const a = value as ApartmentBody;
      const b = r.getBuilding(a.buildingId);
      if (!b) err('buildingId', `no such building ${a.buildingId}`);
      else {
        if (a.entrance > b.entrances) err('entrance', `building ${b.id} has ${b.entrances} entrances`);
        if (a.floor > b.floors) err('floor', `building ${b.id} has ${b.floors} floors`);
        if (a.unit > b.unitsPerFloor) err('unit', `building ${b.id} has ${b.unitsPerFloor} apartments per landing`);
        const pos = `${a.buildingId}|${a.entrance}|${a.floor}|${a.unit}`;
        const taken = r
          .listApartments(a.buildingId)
          .find((x) => x.entrance === a.entrance && x.floor === a.floor && x.unit === a.unit && x.id !== a.id);
        if (taken || positions.has(pos))
          err('unit', `entrance ${a.entrance}, floor ${a.floor}, unit ${a.unit} is taken${taken ? ` by ${taken.id}` : ' in the file'}`);
        positions.add(pos);
      }
      if (a.rooms && a.layout !== undefined) err('rooms', 'give a room list or a layout, not both');
      if (a.layout !== undefined && !LAYOUT_TEMPLATES[a.layout]) err('layout', `unknown layout ${a.layout} (${LAYOUT_NAMES.join(', ')})`);
      if (!a.rooms && a.layout === undefined && mode === 'create')
        err('rooms', `an apartment needs rooms: a room list or a layout (${LAYOUT_NAMES.join(', ')})`);
      const suffixes = new Set<string>();
      for (const room of roomsOf(a)) {
        if (suffixes.has(room.id)) err('rooms', `room ${room.id} twice`);
        suffixes.add(room.id);
        const other = t.getRoom(room.id);
        if ((other && other.apartmentId !== a.id) || newRooms.has(room.id)) err('rooms', `room ${room.id} exists`);
        newRooms.add(room.id);
      }
    } else if (kind === 'rooms') {
      const room = value as Room;
      if (!t.exists('apartments', room.apartmentId)) err('apartmentId', `no such apartment ${room.apartmentId}`);
    }
  }
  return errors;
}

/** Write schema- and reference-checked items in one transaction; station meters get their secrets here. */
function write(ctx: ApiContext, kind: OnboardingKind, values: readonly Value[], by: string, action: string): Record<string, string> {
  const t = ctx.topology;
  const now = ctx.clock.now();
  const secrets: Record<string, string> = {};
  ctx.ordersRepo.transaction(() => {
    for (const v of values) {
      if (kind === 'offices') t.upsertOffice(v as Office);
      else if (kind === 'sources') t.upsertSource(v as HeatSource);
      else if (kind === 'stations') {
        const { meters, ...s } = v as StationBody;
        t.upsertStation(s);
        for (const m of meters ?? []) {
          const d: Device = {
            id: m.id,
            kind: 'station_meter',
            stationId: s.id,
            intervalMin: m.intervalMin ?? ctx.policy.sensors.defaultIntervalMin,
            enabled: true,
          };
          const secret = newDeviceSecret();
          ctx.registry.upsertDevice(d, secret);
          secrets[d.id] = secret;
          ctx.audit.add({ at: now, actor: by, entity: 'device', entityId: d.id, action: 'provisioned' });
        }
      } else if (kind === 'buildings') t.upsertBuilding(v as Building);
      else if (kind === 'apartments') {
        const { rooms: _r, layout: _l, ...a } = v as ApartmentBody;
        t.upsertApartment(a);
        for (const room of roomsOf(v as ApartmentBody)) t.upsertRoom(room);
      } else t.upsertRoom(v as Room);
      ctx.audit.add({ at: now, actor: by, entity: 'topology', entityId: `${kind}/${String(v.id)}`, action });
    }
  });
  return secrets;
}

const announce = (ctx: ApiContext, kind: OnboardingKind, ids: readonly string[], change: string) =>
  ctx.publish(topics.registryChanged, JSON.stringify({ change, kind, ids: ids.slice(0, 100), count: ids.length }));

/** REST errors: an existing id is a conflict, everything else a 400 naming its fields. */
function raise(errors: readonly RowError[]): never {
  const conflict = errors.find((e) => e.field === 'id' && /exists/.test(e.message));
  if (conflict) throw new HeatError('HEAT_ERR_CONFLICT', conflict.message, { fields: ['body/id'] });
  const fields = errors.map((e) => `body/${e.field.replace(/\./g, '/')}`);
  if (errors.some((e) => /^no such/.test(e.message) && e.field === 'id')) throw new HeatError('HEAT_ERR_NOT_FOUND', errors[0]!.message);
  throw new HeatError('HEAT_ERR_VALIDATION', errors.map((e) => `body/${e.field}: ${e.message}`).join('; '), { fields });
}

/** Create (REST): the stored value, the rooms of an apartment, the secrets of a station's meters (shown once). */
export async function createOne(ctx: ApiContext, kind: OnboardingKind, body: Value, by: string): Promise<Value> {
  const errors = checkRefs(ctx, kind, [{ row: 1, value: body }], 'create');
  if (errors.length) raise(errors);
  const secrets = write(ctx, kind, [body], by, 'created');
  await announce(ctx, kind, [body.id as string], 'added');
  return describe(ctx, kind, body, secrets);
}

/** Update (REST PUT): the path names the row, the body gives all its fields. */
export async function updateOne(ctx: ApiContext, kind: OnboardingKind, id: string, body: Value, by: string): Promise<Value> {
  if (body.id !== id) throw new HeatError('HEAT_ERR_VALIDATION', `body/id must be ${id} (the path's id)`, { fields: ['body/id'] });
  const errors = checkRefs(ctx, kind, [{ row: 1, value: body }], 'update');
  if (errors.length) raise(errors);
  const secrets = write(ctx, kind, [body], by, 'updated');
  await announce(ctx, kind, [id], 'updated');
  return describe(ctx, kind, body, secrets);
}

/** Retire (REST DELETE): refused while anything hangs on it (details.dependents), so nothing is orphaned. */
export async function retireOne(ctx: ApiContext, kind: OnboardingKind, id: string, by: string): Promise<{ retired: string }> {
  if (!ctx.topology.exists(kind, id)) throw new HeatError('HEAT_ERR_NOT_FOUND');
  const dependents = ctx.topology.dependents(kind, id);
  if (Object.keys(dependents).length) throw new HeatError('HEAT_ERR_CONFLICT', `retire what hangs on ${id} first`, { dependents });
  ctx.ordersRepo.transaction(() => {
    ctx.topology.retire(kind, id);
    ctx.audit.add({ at: ctx.clock.now(), actor: by, entity: 'topology', entityId: `${kind}/${id}`, action: 'retired' });
  });
  await announce(ctx, kind, [id], 'retired');
  return { retired: id };
}

function describe(ctx: ApiContext, kind: OnboardingKind, v: Value, secrets: Record<string, string>): Value {
  if (kind === 'apartments') {
    const { rooms: _r, layout: _l, ...a } = v;
    return { ...a, rooms: ctx.registry.listRooms(v.id as string) };
  }
  if (kind === 'stations') {
    const { meters: _m, ...s } = v;
    return {
      ...s,
      meters: ctx.registry.listDevices({ stationId: v.id as string, kind: 'station_meter' }),
      ...(Object.keys(secrets).length ? { secrets } : {}),
    };
  }
  return v;
}

// ---- CSV ----------------------------------------------------------------------------------

const num = (s: string | undefined): unknown => (s === undefined || s === '' ? undefined : Number.isFinite(Number(s)) ? Number(s) : s);
const opt = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

/** A CSV row as the REST body of its kind; `rooms` is "suffix:type:areaM2;…". */
function shape(kind: OnboardingKind, rec: Record<string, string>): { value: Value; errors: Omit<RowError, 'row'>[] } {
  const v: Value = {};
  const errors: Omit<RowError, 'row'>[] = [];
  const put = (k: string, x: unknown) => {
    if (x !== undefined) v[k] = x;
  };
  const loc = () => ({ lat: num(rec.lat), lon: num(rec.lon) });
  switch (kind) {
    case 'offices':
      put('id', rec.id);
      put('name', rec.name);
      put('phone', opt(rec.phone));
      break;
    case 'sources':
      put('id', rec.id);
      put('name', rec.name);
      v.location = loc();
      break;
    case 'stations':
      for (const k of ['id', 'name', 'officeId', 'sourceId', 'branchId', 'system']) put(k, rec[k]);
      v.location = loc();
      if (opt(rec.meterId))
        v.meters = [{ id: rec.meterId, ...(opt(rec.meterIntervalMin) ? { intervalMin: num(rec.meterIntervalMin) } : {}) }];
      else if (opt(rec.meterIntervalMin)) errors.push({ field: 'meterIntervalMin', message: 'a meter interval needs a meterId' });
      break;
    case 'buildings':
      for (const k of ['id', 'name', 'stationId', 'address']) put(k, rec[k]);
      v.location = loc();
      for (const k of ['floors', 'entrances', 'unitsPerFloor']) put(k, num(rec[k]));
      break;
    case 'apartments':
      for (const k of ['id', 'buildingId', 'number']) put(k, rec[k]);
      for (const k of ['entrance', 'floor', 'unit', 'areaM2']) put(k, num(rec[k]));
      put('layout', opt(rec.layout));
      if (opt(rec.rooms)) {
        v.rooms = rec.rooms!.split(';').map((item) => {
          const [suffix, type, area] = item.split(':').map((x) => x.trim());
          return { suffix, type, areaM2: num(area) };
        });
      }
      break;
    case 'rooms':
      for (const k of ['id', 'apartmentId', 'name', 'type']) put(k, rec[k]);
      put('areaM2', num(rec.areaM2));
      break;
  }
  return { value: v, errors };
}

/**
 * Import one CSV file of one kind. The header must hold every required column and nothing
 * else; every row is validated before anything is written; any error → HEAT_ERR_IMPORT_INVALID
 * (422) with the whole report and nothing imported. Station meters' secrets come back once.
 */
export async function importOnboardingCsv(ctx: ApiContext, kind: OnboardingKind, text: string, by: string): Promise<ImportReport> {
  const rows = parseCsv(text);
  const header = (rows.shift() ?? []).map((h) => h.trim());
  const cols = ONBOARDING_COLUMNS[kind];
  const known = new Set([...cols.required, ...cols.optional]);
  const errors: RowError[] = [];
  for (const c of cols.required) if (!header.includes(c)) errors.push({ row: 1, field: c, message: 'missing column' });
  for (const h of header)
    if (!known.has(h)) errors.push({ row: 1, field: h, message: `unknown column (${kind} take ${[...known].join(', ')})` });
  if (!rows.length) errors.push({ row: 2, field: '', message: 'no data rows' });
  const items: { row: number; value: Value }[] = [];
  rows.forEach((cells, i) => {
    const row = i + 2; // 1-based, the header is row 1
    if (cells.length > header.length) errors.push({ row, field: '', message: `${cells.length} cells for ${header.length} columns` });
    const rec: Record<string, string> = {};
    header.forEach((h, j) => (rec[h] = (cells[j] ?? '').trim()));
    const { value, errors: shapeErrors } = shape(kind, rec);
    const bad = [...shapeErrors.map((e) => ({ row, ...e })), ...schemaErrors(kind, value, row)];
    if (bad.length) errors.push(...bad);
    else items.push({ row, value });
  });
  errors.push(...checkRefs(ctx, kind, items, 'create'));
  errors.sort((a, b) => a.row - b.row);
  if (errors.length) throw new HeatError('HEAT_ERR_IMPORT_INVALID', undefined, { kind, rows: rows.length, imported: 0, errors });
  const secrets = write(
    ctx,
    kind,
    items.map((x) => x.value),
    by,
    'imported',
  );
  await announce(
    ctx,
    kind,
    items.map((x) => x.value.id as string),
    'imported',
  );
  return { kind, rows: rows.length, imported: items.length, errors: [], ...(Object.keys(secrets).length ? { secrets } : {}) };
}
