/**
 * Sign-in, sign-out, one's own password, the current person, and people administration (admin).
 * Each change and its audit entry are one transaction (issue 17): when records.db refuses the
 * entry the change rolls back too (503), so no person is created, disabled or re-passworded unaudited.
 */
import {
  ChangePasswordBodySchema,
  DisablePersonBodySchema,
  IdParamsSchema,
  LoginBodySchema,
  LoginResponseSchema,
  MeSchema,
  NewPersonBodySchema,
  NoContentSchema,
  PersonSchema,
} from '../../domain/api.schema.ts';
import { ListOf } from '../../domain/list.schema.ts';
import { HeatError } from '../../domain/errors.ts';
import Type from 'typebox';
import { ALL_ROLES } from '../auth.service.ts';
import { who, type ApiContext, type App } from '../context.ts';

export function registerAuthRoutes(app: App, ctx: ApiContext): void {
  app.post(
    '/api/v1/auth/login',
    { config: { public: true }, schema: { tags: ['auth'], security: [], body: LoginBodySchema, response: { 200: LoginResponseSchema } } },
    async (req) => {
      const r = await ctx.auth.login(req.body.username, req.body.password, req.ip);
      return { token: r.token, expiresAt: r.expiresAt, person: r.person };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    { config: { roles: ALL_ROLES }, schema: { tags: ['auth'], response: { 204: NoContentSchema } } },
    async (req, reply) => {
      // The access check resolved the session; logging out ends it and its sockets.
      if (req.session) ctx.auth.logout(req.sessionToken!);
      void reply.code(204).send(null);
      return;
    },
  );

  app.post(
    '/api/v1/auth/password',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['auth'],
        body: ChangePasswordBodySchema,
        description: 'Change your own password; your other sessions end.',
        response: { 204: NoContentSchema },
      },
    },
    async (req, reply) => {
      await ctx.auth.changePassword(req.session!, req.body.currentPassword, req.body.newPassword, req.ip, () =>
        ctx.audit.add({
          at: ctx.clock.now(),
          actor: who(req).username,
          entity: 'person',
          entityId: who(req).id,
          action: 'password_changed',
        }),
      );
      void reply.code(204).send(null);
      return;
    },
  );

  app.get('/api/v1/auth/me', { config: { roles: ALL_ROLES }, schema: { tags: ['auth'], response: { 200: MeSchema } } }, (req) => {
    const p = who(req);
    const apartment = p.apartmentId ? ctx.registry.getApartment(p.apartmentId) : undefined;
    return { person: p, ...(apartment ? { apartment } : {}) };
  });

  app.get('/api/v1/people', { config: { roles: ['admin'] }, schema: { tags: ['people'], response: { 200: ListOf(PersonSchema) } } }, () =>
    ctx.people.list(),
  );

  app.post(
    '/api/v1/people',
    { config: { roles: ['admin'] }, schema: { tags: ['people'], body: NewPersonBodySchema, response: { 201: PersonSchema } } },
    async (req, reply) => {
      const b = req.body;
      if (b.id && ctx.people.get(b.id))
        throw new HeatError('HEAT_ERR_CONFLICT', 'body/id: a person with this id exists', { fields: ['body/id'] });
      if (ctx.people.byUsername(b.username))
        throw new HeatError('HEAT_ERR_CONFLICT', 'body/username: taken', { fields: ['body/username'] });
      if (b.role === 'resident' && (!b.apartmentId || !ctx.registry.getApartment(b.apartmentId))) {
        throw new HeatError('HEAT_ERR_VALIDATION', 'body/apartmentId: a resident needs an existing apartment', {
          fields: ['body/apartmentId'],
        });
      }
      // A station role without a (real) office would match no office filter and see every office's orders.
      if (
        (b.role === 'station_staff' || b.role === 'station_head') &&
        (!b.officeId || !ctx.registry.listOffices().some((o) => o.id === b.officeId))
      ) {
        throw new HeatError('HEAT_ERR_VALIDATION', 'body/officeId: station staff and heads need an existing office', {
          fields: ['body/officeId'],
        });
      }
      const p = await ctx.auth.createPerson(b, (created) =>
        ctx.audit.add({
          at: ctx.clock.now(),
          actor: who(req).username,
          entity: 'person',
          entityId: created.id,
          action: 'created',
          detail: { role: created.role },
        }),
      );
      void reply.code(201);
      return p;
    },
  );

  app.post(
    '/api/v1/people/:id/disable',
    {
      config: { roles: ['admin'] },
      schema: { tags: ['people'], params: IdParamsSchema, body: Type.Optional(DisablePersonBodySchema), response: { 200: PersonSchema } },
    },
    (req) => {
      const disabled = req.body?.disabled ?? true;
      if (disabled && req.params.id === who(req).id) throw new HeatError('HEAT_ERR_CONFLICT', 'you cannot disable yourself');
      // Ends the person's sessions and disconnects their sockets at once.
      const found = ctx.auth.setDisabled(req.params.id, disabled, () =>
        ctx.audit.add({
          at: ctx.clock.now(),
          actor: who(req).username,
          entity: 'person',
          entityId: req.params.id,
          action: disabled ? 'disabled' : 'enabled',
        }),
      );
      if (!found) throw new HeatError('HEAT_ERR_NOT_FOUND');
      return ctx.people.get(req.params.id)!;
    },
  );
}
