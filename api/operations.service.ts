/**
 * Planned outages (N9), KPIs over orders and incidents, and CSV imports of the registry
 * (row-by-row validation; all rows or none).
 */
import { randomBytes } from 'node:crypto';
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import Value from 'typebox/value';
import type { ImportKind, ImportReport, OutageBody } from '../domain/api.schema.ts';
import { HeatError } from '../domain/errors.ts';
import { computeKpis, type Kpis } from '../domain/orders/kpi.ts';
import { ApartmentSchema, BuildingSchema, DeviceSchema } from '../domain/topology.schema.ts';
import { newDeviceSecret } from '../storage/records/secrets.ts';
import { SERVICE_ACCOUNT_PREFIX, isReservedDeviceId } from '../storage/records/service-accounts.ts';
import type { ApiContext } from './context.ts';
import { parseCsv } from '../domain/csv.ts';
import { hashPasswordAsync, passwordProblem } from './password.ts';
import type { Outage } from './outages.repository.ts';

/** N9: announce a planned outage; refused with less than the notice unless it is an emergency. */
export function createOutage(ctx: ApiContext, body: OutageBody, by: string): Outage {
  const now = ctx.clock.now();
  if (body.endsAt <= body.startsAt) throw new HeatError('HEAT_ERR_VALIDATION', 'body/endsAt must be after startsAt');
  // N9: skipping the notice is allowed only for an emergency, and the emergency must say why.
  if (body.emergency && !body.emergencyReason?.trim())
    throw new HeatError('HEAT_ERR_VALIDATION', 'body/emergencyReason is required with emergency (N9)', {
      fields: ['body/emergencyReason'],
    });
  const noticeMs = ctx.policy.service.outageNoticeHours * 3_600_000; // N9
  if (!body.emergency && body.startsAt - now < noticeMs) {
    throw new HeatError(
      'HEAT_ERR_OUTAGE_NOTICE',
      `planned outages are announced at least ${ctx.policy.service.outageNoticeHours} h ahead (N9)`,
      {
        earliestStartsAt: now + noticeMs,
      },
    );
  }
  const r = ctx.registry;
  let stationId: string;
  let buildings: string[];
  if (body.scopeType === 'station') {
    if (!r.getStation(body.scopeId)) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such station');
    stationId = body.scopeId;
    buildings = r.listBuildings(stationId).map((b) => b.id);
  } else {
    const b = r.getBuilding(body.scopeId);
    if (!b) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such building');
    stationId = b.stationId;
    buildings = [b.id];
  }
  const apartments = buildings.flatMap((b) => r.listApartments(b).map((a) => a.id)); // affected, from the topology
  const o: Outage = {
    id: `out-${randomBytes(5).toString('hex')}`,
    scopeType: body.scopeType,
    scopeId: body.scopeId,
    stationId,
    startsAt: body.startsAt,
    endsAt: body.endsAt,
    reason: body.reason,
    emergency: body.emergency ?? false,
    ...(body.emergency ? { emergencyReason: body.emergencyReason } : {}),
    announcedAt: now,
    announcedBy: by,
    apartments,
    // N9: each affected home is told now; the resident's home shows it with how far ahead it came.
    notices: apartments.map((apartmentId) => ({
      apartmentId,
      at: now,
      hoursAhead: Math.round(((body.startsAt - now) / 3_600_000) * 10) / 10,
    })),
  };
  // The outage and its audit entry, both or neither (issue 17): an unaudited announcement is not kept.
  ctx.ordersRepo.transaction(() => {
    ctx.outages.save(o);
    ctx.audit.add({
      at: now,
      actor: by,
      entity: 'outage',
      entityId: o.id,
      action: 'announced',
      detail: { scopeType: o.scopeType, scopeId: o.scopeId, apartments: apartments.length },
    });
  });
  return o;
}

export function kpis(ctx: ApiContext, from: number, to: number): Kpis {
  const r = ctx.registry;
  const stationOf = new Map(r.listBuildings().map((b) => [b.id, b.stationId]));
  // KPIs count monitored apartments only: those with an enabled room sensor in a counted room.
  const roomApartment = new Map(r.listRooms().map((room) => [room.id, room.apartmentId]));
  const monitored = new Set(
    r
      .listDevices({ kind: 'room_sensor' })
      .filter((d) => d.enabled && d.roomId)
      .map((d) => roomApartment.get(d.roomId!)),
  );
  const apartmentStation = new Map<string, string>();
  for (const a of r.listApartments()) {
    const st = stationOf.get(a.buildingId);
    if (st && monitored.has(a.id)) apartmentStation.set(a.id, st);
  }
  const stationOffice = new Map(r.listStations().map((s) => [s.id, s.officeId]));
  return computeKpis(
    { from, to, orders: ctx.ordersRepo.list({}), coldIncidents: ctx.incidents.coldOverlapping(from, to), apartmentStation, stationOffice },
    ctx.policy,
  );
}

const ResidentRowSchema = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
  apartmentId: Type.String({ minLength: 1 }),
  phone: Type.Optional(Type.String({ maxLength: 40 })),
  password: Type.String({ minLength: 8, maxLength: 256 }),
});

const COLUMNS: Record<ImportKind, readonly string[]> = {
  buildings: ['id', 'name', 'stationId', 'address', 'lat', 'lon', 'floors', 'entrances', 'unitsPerFloor'],
  apartments: ['id', 'buildingId', 'entrance', 'floor', 'unit', 'number', 'areaM2'],
  residents: ['username', 'name', 'apartmentId', 'phone', 'password'],
  devices: ['id', 'kind', 'roomId', 'stationId', 'gatewayId', 'intervalMin'],
};

const checkers = {
  buildings: Compile(BuildingSchema),
  apartments: Compile(ApartmentSchema),
  residents: Compile(ResidentRowSchema),
  devices: Compile(DeviceSchema),
};

function shape(kind: ImportKind, rec: Record<string, string>): Record<string, unknown> {
  const num = (s: string | undefined): unknown => (s === undefined || s === '' ? undefined : Number.isFinite(Number(s)) ? Number(s) : s);
  const opt = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);
  const out: Record<string, unknown> = {};
  const put = (k: string, v: unknown): void => {
    if (v !== undefined) out[k] = v;
  };
  switch (kind) {
    case 'buildings':
      for (const k of ['id', 'name', 'stationId', 'address']) put(k, rec[k]);
      out.location = { lat: num(rec.lat), lon: num(rec.lon) };
      for (const k of ['floors', 'entrances', 'unitsPerFloor']) put(k, num(rec[k]));
      break;
    case 'apartments':
      for (const k of ['id', 'buildingId', 'number']) put(k, rec[k]);
      for (const k of ['entrance', 'floor', 'unit', 'areaM2']) put(k, num(rec[k]));
      break;
    case 'residents':
      for (const k of ['username', 'name', 'apartmentId', 'password']) put(k, rec[k]);
      put('phone', opt(rec.phone));
      break;
    case 'devices':
      for (const k of ['id', 'kind']) put(k, rec[k]);
      for (const k of ['roomId', 'stationId', 'gatewayId']) put(k, opt(rec[k]));
      put('intervalMin', num(rec.intervalMin) ?? 10);
      out.enabled = true;
      break;
  }
  return out;
}

/**
 * Import CSV rows of one kind. Every row is validated (schema, references, duplicates)
 * before anything is written; any error → HEAT_ERR_IMPORT_INVALID with the full report and
 * nothing imported. Devices get a secret each, returned once in the report.
 */
export async function importCsv(ctx: ApiContext, kind: ImportKind, text: string, by: string): Promise<ImportReport> {
  const rows = parseCsv(text);
  const errors: ImportReport['errors'][number][] = [];
  const header = (rows.shift() ?? []).map((h) => h.trim());
  const missing = COLUMNS[kind].filter(
    (c) => !header.includes(c) && !['phone', 'roomId', 'stationId', 'gatewayId', 'intervalMin'].includes(c),
  );
  for (const c of missing) errors.push({ row: 1, field: c, message: 'missing column' });
  // A column we do not read is refused, not ignored (an apartment's `rooms` would be lost).
  for (const h of header)
    if (!COLUMNS[kind].includes(h))
      errors.push({
        row: 1,
        field: h,
        message: `unknown column (${kind} take ${COLUMNS[kind].join(', ')}${kind === 'apartments' ? '; rooms and layouts: POST /api/v1/onboarding/import/apartments' : ''})`,
      });
  const r = ctx.registry;
  const seen = new Set<string>();
  const valid: Record<string, unknown>[] = [];
  rows.forEach((cells, i) => {
    const rowNo = i + 2; // 1-based with the header as row 1
    const rec: Record<string, string> = {};
    header.forEach((h, j) => (rec[h] = (cells[j] ?? '').trim()));
    const value = shape(kind, rec);
    const check = checkers[kind] as unknown as {
      Check(v: unknown): boolean;
      Errors(v: unknown): { instancePath: string; message: string }[];
    };
    if (!check.Check(value)) {
      for (const e of check.Errors(value).slice(0, 5)) {
        const params = (e as { params?: { requiredProperties?: string[] } }).params;
        const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || params?.requiredProperties?.join(',') || '';
        errors.push({ row: rowNo, field, message: e.message });
      }
      return;
    }
    const key = String(value.id ?? value.username);
    if (seen.has(key))
      errors.push({ row: rowNo, field: kind === 'residents' ? 'username' : 'id', message: `duplicate ${key} in the file` });
    seen.add(key);
    const ref = (field: string, ok: boolean, what: string): void => {
      if (!ok) errors.push({ row: rowNo, field, message: `no such ${what}` });
    };
    if (kind === 'buildings') ref('stationId', !!r.getStation(value.stationId as string), 'station');
    if (kind === 'apartments') ref('buildingId', !!r.getBuilding(value.buildingId as string), 'building');
    if (kind === 'residents') {
      ref('apartmentId', !!r.getApartment(value.apartmentId as string), 'apartment');
      if (ctx.people.byUsername(value.username as string)) errors.push({ row: rowNo, field: 'username', message: 'username taken' });
      // The same password policy as every other new password (issue 13 finding 9).
      const weak = passwordProblem(value.password as string, value.username as string);
      if (weak) errors.push({ row: rowNo, field: 'password', message: weak.text });
    }
    if (kind === 'devices') {
      if (value.kind === 'room_sensor') ref('roomId', !!value.roomId && ctx.topology.roomExists(value.roomId as string), 'room');
      if (value.kind === 'station_meter') ref('stationId', !!value.stationId && !!r.getStation(value.stationId as string), 'station');
      if (r.getDevice(value.id as string)) errors.push({ row: rowNo, field: 'id', message: 'device exists' });
      if (isReservedDeviceId(String(value.id)))
        errors.push({ row: rowNo, field: 'id', message: `the prefix ${SERVICE_ACCOUNT_PREFIX} is reserved for service accounts` });
    }
    valid.push(value);
  });
  if (!rows.length) errors.push({ row: 2, field: '', message: 'no data rows' });
  const report: ImportReport = { kind, rows: rows.length, imported: 0, errors };
  if (errors.length) throw new HeatError('HEAT_ERR_IMPORT_INVALID', undefined, report);

  const now = ctx.clock.now();
  const secrets: Record<string, string> = {};
  // Residents' passwords are hashed first, in the thread pool (scrypt, ~50 ms each), so the
  // transaction below does no hashing on the event loop.
  const hashes = kind === 'residents' ? await Promise.all(valid.map((v) => hashPasswordAsync(v.password as string))) : [];
  // One transaction: every row or none.
  ctx.ordersRepo.transaction(() => {
    for (const [i, v] of valid.entries()) {
      if (kind === 'buildings') {
        ctx.topology.upsertBuilding(Value.Parse(BuildingSchema, v));
      } else if (kind === 'apartments') {
        ctx.topology.upsertApartment(Value.Parse(ApartmentSchema, v));
      } else if (kind === 'residents') {
        const { password: _pw, ...p } = Value.Parse(ResidentRowSchema, v);
        const person = ctx.people.insert({ ...p, role: 'resident' }, hashes[i]!, now);
        ctx.audit.add({ at: now, actor: by, entity: 'person', entityId: person.id, action: 'imported' });
      } else {
        const d = Value.Parse(DeviceSchema, v);
        const secret = newDeviceSecret();
        r.upsertDevice(d, secret);
        secrets[d.id] = secret;
        ctx.audit.add({ at: now, actor: by, entity: 'device', entityId: d.id, action: 'imported' });
      }
    }
    ctx.audit.add({ at: now, actor: by, entity: 'import', entityId: kind, action: 'imported', detail: { rows: valid.length } });
  });
  return { kind, rows: rows.length, imported: valid.length, errors: [], ...(kind === 'devices' ? { secrets } : {}) };
}
