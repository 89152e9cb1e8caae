/** Topology from the registry. Staff see the city; a resident sees only their own apartment. */
import Type from 'typebox';
import { IdParamsSchema } from '../../domain/api.schema.ts';
import { ApartmentDetailSchema, BuildingDetailSchema, StationDetailSchema } from '../../domain/registry.schema.ts';
import {
  ApartmentSchema,
  BuildingSchema,
  HeatSourceSchema,
  OfficeSchema,
  RoomSchema,
  StationSchema,
} from '../../domain/topology.schema.ts';
import { HeatError } from '../../domain/errors.ts';
import { ALL_ROLES, STAFF_ROLES } from '../auth.service.ts';
import { assertApartment, who, type ApiContext, type App } from '../context.ts';
import { ListOf } from '../../domain/list.schema.ts';

export function registerRegistryRoutes(app: App, ctx: ApiContext): void {
  const r = ctx.registry;
  const staff = { roles: STAFF_ROLES };
  const tags = ['registry'];

  app.get('/api/v1/offices', { config: staff, schema: { tags, response: { 200: ListOf(OfficeSchema) } } }, () => r.listOffices());
  app.get('/api/v1/sources', { config: staff, schema: { tags, response: { 200: ListOf(HeatSourceSchema) } } }, () => r.listSources());
  app.get('/api/v1/stations', { config: staff, schema: { tags, response: { 200: ListOf(StationSchema) } } }, () => r.listStations());
  app.get(
    '/api/v1/stations/:id',
    { config: staff, schema: { tags, params: IdParamsSchema, response: { 200: StationDetailSchema } } },
    (req) => {
      const s = r.getStation(req.params.id);
      if (!s) throw new HeatError('HEAT_ERR_NOT_FOUND');
      return { ...s, buildings: r.listBuildings(s.id) };
    },
  );
  app.get(
    '/api/v1/buildings',
    {
      config: staff,
      schema: { tags, querystring: Type.Object({ stationId: Type.Optional(Type.String()) }), response: { 200: ListOf(BuildingSchema) } },
    },
    (req) => r.listBuildings(req.query.stationId),
  );
  app.get(
    '/api/v1/buildings/:id',
    { config: staff, schema: { tags, params: IdParamsSchema, response: { 200: BuildingDetailSchema } } },
    (req) => {
      const b = r.getBuilding(req.params.id);
      if (!b) throw new HeatError('HEAT_ERR_NOT_FOUND');
      return { ...b, apartments: r.listApartments(b.id) };
    },
  );
  app.get(
    '/api/v1/apartments',
    {
      config: staff,
      schema: { tags, querystring: Type.Object({ buildingId: Type.Optional(Type.String()) }), response: { 200: ListOf(ApartmentSchema) } },
    },
    (req) => r.listApartments(req.query.buildingId),
  );
  app.get(
    '/api/v1/apartments/:id',
    { config: { roles: ALL_ROLES }, schema: { tags, params: IdParamsSchema, response: { 200: ApartmentDetailSchema } } },
    (req) => {
      assertApartment(who(req), req.params.id);
      const a = r.getApartment(req.params.id);
      if (!a) throw new HeatError('HEAT_ERR_NOT_FOUND');
      const b = r.getBuilding(a.buildingId);
      return { ...a, building: b, rooms: r.listRooms(a.id) };
    },
  );
  app.get(
    '/api/v1/apartments/:id/rooms',
    { config: { roles: ALL_ROLES }, schema: { tags, params: IdParamsSchema, response: { 200: ListOf(RoomSchema) } } },
    (req) => {
      assertApartment(who(req), req.params.id);
      if (!r.getApartment(req.params.id)) throw new HeatError('HEAT_ERR_NOT_FOUND');
      return r.listRooms(req.params.id);
    },
  );
  app.get(
    '/api/v1/rooms',
    { config: staff, schema: { tags, querystring: Type.Object({ apartmentId: Type.String() }), response: { 200: ListOf(RoomSchema) } } },
    (req) => r.listRooms(req.query.apartmentId),
  );
}
