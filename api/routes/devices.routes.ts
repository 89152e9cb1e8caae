/**
 * Device provisioning: create (the secret is shown once), enable/disable and delete
 * (published on heat/v1/platform/registry so the broker kicks a disabled or deleted device
 * at once), the list with online status, last seen and battery, and the dead letters of
 * rejected telemetry. Device ids never enter the service accounts' namespace (`svc-`).
 * Each change and its audit entry are one transaction (issue 17): when records.db refuses the
 * audit entry the change rolls back too (503), so nothing is changed unaudited — and a new
 * secret is never stored without being handed out.
 */
import { DeadLettersQuerySchema, DeviceListQuerySchema, IdParamsSchema, NewDeviceBodySchema } from '../../domain/api.schema.ts';
import { ListOf } from '../../domain/list.schema.ts';
import {
  DeadLettersSchema,
  DeviceDeletedSchema,
  DeviceDetailSchema,
  DeviceRowSchema,
  DeviceSecretSchema,
  DeviceToggleSchema,
} from '../../domain/registry.schema.ts';
import { HeatError } from '../../domain/errors.ts';
import { topics } from '../../domain/topics.ts';
import type { Device } from '../../domain/topology.schema.ts';
import { newDeviceSecret } from '../../storage/records/secrets.ts';
import { SERVICE_ACCOUNT_PREFIX, isReservedDeviceId } from '../../storage/records/service-accounts.ts';
import { who, type ApiContext, type App } from '../context.ts';

const DEVICE_ROLES = ['admin', 'engineer'] as const;

export function registerDeviceRoutes(app: App, ctx: ApiContext): void {
  const tags = ['devices'];
  const r = ctx.registry;
  /** `change` and the audit entry of `action` on device `id`, both or neither. */
  const audited = <T>(req: Parameters<typeof who>[0], id: string, action: string, change: () => T): T =>
    r.db.transaction(() => {
      const out = change();
      ctx.audit.add({ at: ctx.clock.now(), actor: who(req).username, entity: 'device', entityId: id, action });
      return out;
    })();

  app.get(
    '/api/v1/devices',
    {
      config: { roles: [...DEVICE_ROLES, 'dispatcher', 'manager', 'station_head'] },
      schema: { tags, querystring: DeviceListQuerySchema, response: { 200: ListOf(DeviceRowSchema) } },
    },
    async (req) => {
      const list = r.listDevices({ ...req.query, limit: req.query.limit ?? 200 });
      const statuses = ctx.outages.deviceStatuses();
      return Promise.all(
        list.map(async (d) => {
          const [latest] = await ctx.store.latest({ deviceId: d.id });
          const s = statuses.get(d.id);
          return {
            ...d,
            online: s?.status === 'online',
            statusAt: s?.at ?? null,
            lastSeen: latest?.ts ?? null,
            battery: latest?.fields.bat ?? null,
            lowBattery: latest?.fields.bat !== undefined ? latest.fields.bat < ctx.policy.sensors.lowBatteryV : false,
          };
        }),
      );
    },
  );

  app.get(
    '/api/v1/devices/:id',
    {
      config: { roles: [...DEVICE_ROLES, 'dispatcher', 'manager', 'station_head'] },
      schema: { tags, params: IdParamsSchema, response: { 200: DeviceDetailSchema } },
    },
    (req) => {
      const d = r.getDevice(req.params.id);
      if (!d) throw new HeatError('HEAT_ERR_NOT_FOUND');
      return { ...d, location: r.locate(d.id), status: ctx.outages.deviceStatuses().get(d.id) ?? null };
    },
  );

  app.post(
    '/api/v1/devices',
    { config: { roles: DEVICE_ROLES }, schema: { tags, body: NewDeviceBodySchema, response: { 201: DeviceSecretSchema } } },
    async (req, reply) => {
      const b = req.body;
      if (isReservedDeviceId(b.id))
        throw new HeatError('HEAT_ERR_VALIDATION', `body/id: the prefix ${SERVICE_ACCOUNT_PREFIX} is reserved for service accounts`);
      if (r.getDevice(b.id)) throw new HeatError('HEAT_ERR_CONFLICT', 'device exists');
      if (b.kind === 'room_sensor' && (!b.roomId || !ctx.topology.roomExists(b.roomId)))
        throw new HeatError('HEAT_ERR_VALIDATION', 'body/roomId: a room sensor needs an existing room');
      if (b.kind === 'station_meter' && (!b.stationId || !r.getStation(b.stationId)))
        throw new HeatError('HEAT_ERR_VALIDATION', 'body/stationId: a station meter needs an existing station');
      const device: Device = { ...b, intervalMin: b.intervalMin ?? ctx.policy.sensors.defaultIntervalMin, enabled: true };
      const secret = newDeviceSecret();
      audited(req, device.id, 'provisioned', () => r.upsertDevice(device, secret));
      await ctx.publish(topics.registryChanged, JSON.stringify({ deviceId: device.id, change: 'added' }));
      // The only time the secret leaves the platform: only its hash is stored.
      void reply.code(201);
      return { device, secret };
    },
  );

  const setEnabled = (enabled: boolean) => async (req: { params: { id: string } } & Parameters<typeof who>[0]) => {
    const id = req.params.id;
    audited(req, id, enabled ? 'enabled' : 'disabled', () => {
      if (!r.setDeviceEnabled(id, enabled)) throw new HeatError('HEAT_ERR_NOT_FOUND');
    });
    const published = await ctx.publish(topics.registryChanged, JSON.stringify({ deviceId: id, change: enabled ? 'enabled' : 'disabled' }));
    return { device: r.getDevice(id), published };
  };
  app.post(
    '/api/v1/devices/:id/disable',
    { config: { roles: DEVICE_ROLES }, schema: { tags, params: IdParamsSchema, response: { 200: DeviceToggleSchema } } },
    setEnabled(false) as never,
  );
  app.post(
    '/api/v1/devices/:id/enable',
    { config: { roles: DEVICE_ROLES }, schema: { tags, params: IdParamsSchema, response: { 200: DeviceToggleSchema } } },
    setEnabled(true) as never,
  );

  app.delete(
    '/api/v1/devices/:id',
    { config: { roles: DEVICE_ROLES }, schema: { tags, params: IdParamsSchema, response: { 200: DeviceDeletedSchema } } },
    async (req) => {
      const id = req.params.id;
      if (!r.getDevice(id)) throw new HeatError('HEAT_ERR_NOT_FOUND');
      // A gateway's devices would be left pointing at nothing: move or delete them first.
      const behind = r.listDevices({ gatewayId: id, limit: 1 });
      if (behind.length) throw new HeatError('HEAT_ERR_CONFLICT', `gateway ${id} still has devices (e.g. ${behind[0]!.id})`);
      audited(req, id, 'deleted', () => r.deleteDevice(id));
      // The broker disconnects a connected device on this notice (and on its registry sweep).
      const published = await ctx.publish(topics.registryChanged, JSON.stringify({ deviceId: id, change: 'deleted' }));
      return { deleted: id, published };
    },
  );

  app.post(
    '/api/v1/devices/:id/rotate-secret',
    { config: { roles: DEVICE_ROLES }, schema: { tags, params: IdParamsSchema, response: { 200: DeviceSecretSchema } } },
    async (req) => {
      const d = r.getDevice(req.params.id);
      if (!d) throw new HeatError('HEAT_ERR_NOT_FOUND');
      const secret = newDeviceSecret();
      audited(req, d.id, 'secret_rotated', () => r.upsertDevice(d, secret));
      await ctx.publish(topics.registryChanged, JSON.stringify({ deviceId: d.id, change: 'secret' }));
      return { device: d, secret };
    },
  );

  app.get(
    '/api/v1/dead-letters',
    { config: { roles: DEVICE_ROLES }, schema: { tags, querystring: DeadLettersQuerySchema, response: { 200: DeadLettersSchema } } },
    (req) => {
      if (!ctx.deadLetters) return { items: [], byReason: {} };
      return { items: ctx.deadLetters.list(req.query), byReason: ctx.deadLetters.countByReason() };
    },
  );
}
