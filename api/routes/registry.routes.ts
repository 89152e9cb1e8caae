/** Topology from the registry. Staff see the city; a resident sees only their own apartment. */
import Type, { type Static, type TSchema } from 'typebox';
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
  // station → buildings → apartments: each level's detail carries the list of the level
  // below, and each list may be narrowed to one parent.
  const detail = <T, S extends TSchema>(path: string, response: S, get: (id: string) => T | undefined, below: (t: T) => Static<S>) =>
    app.get(path, { config: staff, schema: { tags, params: IdParamsSchema, response: { 200: response } } }, (req) => {
      const found = get(req.params.id);
      if (found === undefined) throw new HeatError('HEAT_ERR_NOT_FOUND');
      return below(found) as never; // typed at each call (Static<S>); fastify's provider cannot resolve a generic schema
    });
  const listBy = <S extends TSchema>(path: string, parent: string, item: S, list: (parentId: string | undefined) => readonly Static<S>[]) =>
    app.get(
      path,
      {
        config: staff,
        schema: { tags, querystring: Type.Object({ [parent]: Type.Optional(Type.String()) }), response: { 200: ListOf(item) } },
      },
      (req) => list(req.query[parent]) as never,
    );
  detail('/api/v1/stations/:id', StationDetailSchema, r.getStation.bind(r), (s) => ({ ...s, buildings: r.listBuildings(s.id) }));
  listBy('/api/v1/buildings', 'stationId', BuildingSchema, (stationId) => r.listBuildings(stationId));
  detail('/api/v1/buildings/:id', BuildingDetailSchema, r.getBuilding.bind(r), (b) => ({ ...b, apartments: r.listApartments(b.id) }));
  listBy('/api/v1/apartments', 'buildingId', ApartmentSchema, (buildingId) => r.listApartments(buildingId));
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
