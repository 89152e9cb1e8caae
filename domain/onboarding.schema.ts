/**
 * Onboarding bodies (REST and CSV rows): a utility builds its own city — offices, heat
 * sources, stations with their meters, buildings, apartments with their rooms, rooms. Each
 * schema is a topology schema (topology.schema.ts) plus what onboarding adds; the same
 * schema validates the REST body, each CSV row and documents the OpenAPI.
 */
import Type, { type Static } from 'typebox';
import { ListOf } from './list.schema.ts';
import {
  ApartmentSchema,
  BuildingSchema,
  DeviceSchema,
  HeatSourceSchema,
  IdSchema,
  OfficeSchema,
  RoomSchema,
  RoomTypeSchema,
  StationSchema,
} from './topology.schema.ts';

/** A room as part of an apartment: its id is `${apartmentId}-${suffix}`. */
export const RoomInputSchema = Type.Object({
  suffix: Type.String({ minLength: 1, maxLength: 20, pattern: '^[A-Za-z0-9_.-]+$' }),
  name: Type.Optional(Type.String({ maxLength: 100 })),
  type: RoomTypeSchema,
  areaM2: Type.Number({ exclusiveMinimum: 0, maximum: 1000 }),
});
export type RoomInput = Static<typeof RoomInputSchema>;

/** A plan's rooms, in the order residents list them: living room, bedrooms (bed1…), kitchen, bathroom. */
function layout(plan: {
  living: number;
  /** Name → area, m², in order (bed1, bed2, …). */
  bedrooms?: Readonly<Record<string, number>>;
  kitchen?: number;
  bath: number;
}): RoomInput[] {
  return [
    { suffix: 'living', name: 'Living room', type: 'living', areaM2: plan.living },
    ...Object.entries(plan.bedrooms ?? {}).map(([name, areaM2], i): RoomInput => ({
      suffix: `bed${i + 1}`,
      name,
      type: 'bedroom',
      areaM2,
    })),
    ...(plan.kitchen === undefined ? [] : [{ suffix: 'kitchen', name: 'Kitchen', type: 'kitchen' as const, areaM2: plan.kitchen }]),
    { suffix: 'bath', name: 'Bathroom', type: 'bathroom', areaM2: plan.bath },
  ];
}

/**
 * Named layouts: the usual Chinese apartment plans (一室一厅 … 三室两厅). Areas are typical
 * floor areas, m²; counted rooms (N2, N32: bedrooms and the living room) weigh by area.
 */
export const LAYOUT_TEMPLATES: Readonly<Record<string, readonly RoomInput[]>> = Object.freeze({
  studio: layout({ living: 24, bath: 4 }),
  '1br': layout({ living: 18, bedrooms: { Bedroom: 12 }, kitchen: 6, bath: 4 }),
  '2br': layout({ living: 22, bedrooms: { 'Main bedroom': 14, 'Second bedroom': 10 }, kitchen: 7, bath: 5 }),
  '3br': layout({ living: 26, bedrooms: { 'Main bedroom': 15, 'Second bedroom': 11, 'Third bedroom': 9 }, kitchen: 8, bath: 5 }),
});
export const LAYOUT_NAMES = Object.keys(LAYOUT_TEMPLATES);

export const MeterInputSchema = Type.Object({
  id: IdSchema,
  /** Reporting interval, minutes (default: the policy's). */
  intervalMin: Type.Optional(Type.Number({ minimum: 1, maximum: 1440 })),
});

export const OfficeBodySchema = OfficeSchema;
export const SourceBodySchema = HeatSourceSchema;
/** A station, and the meters to provision on it (each secret is returned once). */
export const StationBodySchema = Type.Intersect([
  StationSchema,
  Type.Object({ meters: Type.Optional(Type.Array(MeterInputSchema, { maxItems: 10 })) }),
]);
export type StationBody = Static<typeof StationBodySchema>;
export const BuildingBodySchema = BuildingSchema;
/** An apartment and its rooms: a room list, or a named layout (LAYOUT_TEMPLATES), not both. */
export const ApartmentBodySchema = Type.Intersect([
  ApartmentSchema,
  Type.Object({
    rooms: Type.Optional(Type.Array(RoomInputSchema, { minItems: 1, maxItems: 30 })),
    layout: Type.Optional(Type.String({ maxLength: 40 })),
  }),
]);
export type ApartmentBody = Static<typeof ApartmentBodySchema>;
export const RoomBodySchema = RoomSchema;

export const ONBOARDING_KINDS = ['offices', 'sources', 'stations', 'buildings', 'apartments', 'rooms'] as const;
export type OnboardingKind = (typeof ONBOARDING_KINDS)[number];

/** CSV columns per kind (header row; no others accepted). Required ones first. */
export const ONBOARDING_COLUMNS: Readonly<
  Record<OnboardingKind, { readonly required: readonly string[]; readonly optional: readonly string[] }>
> = {
  offices: { required: ['id', 'name'], optional: ['phone'] },
  sources: { required: ['id', 'name', 'lat', 'lon'], optional: [] },
  stations: {
    required: ['id', 'name', 'officeId', 'sourceId', 'branchId', 'lat', 'lon', 'system'],
    optional: ['meterId', 'meterIntervalMin'],
  },
  buildings: { required: ['id', 'name', 'stationId', 'address', 'lat', 'lon', 'floors', 'entrances', 'unitsPerFloor'], optional: [] },
  /** `rooms`: "suffix:type:areaM2" items separated by ";" (e.g. "living:living:20;bed1:bedroom:12"), or a `layout` name. */
  apartments: { required: ['id', 'buildingId', 'entrance', 'floor', 'unit', 'number', 'areaM2'], optional: ['layout', 'rooms'] },
  rooms: { required: ['id', 'apartmentId', 'name', 'type', 'areaM2'], optional: [] },
};

export const OnboardingKindParamsSchema = Type.Object({ kind: Type.Enum([...ONBOARDING_KINDS]) });

// ---- Responses (issue #15: every route declares one)

/** A station as onboarded: its meters, and each new meter's secret (shown once). */
export const OnboardedStationSchema = Type.Object({
  ...StationSchema.properties,
  meters: ListOf(DeviceSchema),
  secrets: Type.Optional(
    Type.Record(Type.String(), Type.String(), { description: 'meter id → secret, only when meters were provisioned' }),
  ),
});
/** An apartment as onboarded, with the rooms it got (from its list or layout). */
export const OnboardedApartmentSchema = Type.Object({ ...ApartmentSchema.properties, rooms: ListOf(RoomSchema) });
/** What POST and PUT answer for each kind. */
export const ONBOARDED_SCHEMAS = {
  offices: OfficeSchema,
  sources: HeatSourceSchema,
  stations: OnboardedStationSchema,
  buildings: BuildingSchema,
  apartments: OnboardedApartmentSchema,
  rooms: RoomSchema,
} as const satisfies Record<OnboardingKind, unknown>;
export const RetiredSchema = Type.Object({ retired: Type.String() });
/** GET /layouts: layout name → the rooms an apartment gets from it. */
export const LayoutsSchema = Type.Record(Type.String(), ListOf(RoomInputSchema));
