/** Topology from the registry. Staff see the city; a resident sees only their own apartment. */
import Type from 'typebox';
import { IdParamsSchema } from '../../domain/api.schema.ts';
import { HeatError } from '../../domain/errors.ts';
import { ALL_ROLES, STAFF_ROLES } from '../auth.service.ts';
import { assertApartment, who, type ApiContext, type App } from '../context.ts';

export function registerRegistryRoutes(app: App, ctx: ApiContext): void {
  const r = ctx.registry;
  const staff = { roles: STAFF_ROLES };
  const tags = ['registry'];

  app.get('/api/v1/offices', { config: staff, schema: { tags } }, () => r.listOffices());
  app.get('/api/v1/sources', { config: staff, schema: { tags } }, () => r.listSources());
  app.get('/api/v1/stations', { config: staff, schema: { tags } }, () => r.listStations());
  app.get('/api/v1/stations/:id', { config: staff, schema: { tags, params: IdParamsSchema } }, (req) => {
    const s = r.getStation(req.params.id);
    if (!s) throw new HeatError('HEAT_ERR_NOT_FOUND');
    return { ...s, buildings: r.listBuildings(s.id) };
  });
  app.get('/api/v1/buildings', { config: staff, schema: { tags, querystring: Type.Object({ stationId: Type.Optional(Type.String()) }) } }, (req) =>
    r.listBuildings(req.query.stationId),
  );
  app.get('/api/v1/buildings/:id', { config: staff, schema: { tags, params: IdParamsSchema } }, (req) => {
    const b = r.getBuilding(req.params.id);
    if (!b) throw new HeatError('HEAT_ERR_NOT_FOUND');
    return { ...b, apartments: r.listApartments(b.id) };
  });
  app.get('/api/v1/apartments', { config: staff, schema: { tags, querystring: Type.Object({ buildingId: Type.Optional(Type.String()) }) } }, (req) =>
    r.listApartments(req.query.buildingId),
  );
  app.get('/api/v1/apartments/:id', { config: { roles: ALL_ROLES }, schema: { tags, params: IdParamsSchema } }, (req) => {
    assertApartment(who(req), req.params.id);
    const a = r.getApartment(req.params.id);
    if (!a) throw new HeatError('HEAT_ERR_NOT_FOUND');
    const b = r.getBuilding(a.buildingId);
    return { ...a, building: b, rooms: r.listRooms(a.id) };
  });
  app.get('/api/v1/apartments/:id/rooms', { config: { roles: ALL_ROLES }, schema: { tags, params: IdParamsSchema } }, (req) => {
    assertApartment(who(req), req.params.id);
    if (!r.getApartment(req.params.id)) throw new HeatError('HEAT_ERR_NOT_FOUND');
    return r.listRooms(req.params.id);
  });
  app.get('/api/v1/rooms', { config: staff, schema: { tags, querystring: Type.Object({ apartmentId: Type.String() }) } }, (req) => r.listRooms(req.query.apartmentId));
}
