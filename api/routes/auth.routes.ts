/** Sign-in, sign-out, the current person, and people administration (admin). */
import { LoginBodySchema, NewPersonBodySchema, IdParamsSchema } from '../../domain/api.schema.ts';
import { HeatError } from '../../domain/errors.ts';
import { ALL_ROLES, bearer } from '../auth.service.ts';
import { who, type ApiContext, type App } from '../context.ts';
import Type from 'typebox';

export function registerAuthRoutes(app: App, ctx: ApiContext): void {
  app.post('/api/v1/auth/login', { config: { public: true }, schema: { tags: ['auth'], security: [], body: LoginBodySchema } }, (req) => {
    const r = ctx.auth.login(req.body.username, req.body.password, req.ip);
    return { token: r.token, expiresAt: r.expiresAt, person: r.person };
  });

  app.post('/api/v1/auth/logout', { config: { roles: ALL_ROLES }, schema: { tags: ['auth'] } }, async (req, reply) => {
    const t = bearer(req.headers.authorization);
    if (t) ctx.auth.logout(t);
    void reply.code(204).send();
    return;
  });

  app.get('/api/v1/auth/me', { config: { roles: ALL_ROLES }, schema: { tags: ['auth'] } }, (req) => {
    const p = who(req);
    const apartment = p.apartmentId ? ctx.registry.getApartment(p.apartmentId) : undefined;
    return { person: p, ...(apartment ? { apartment } : {}) };
  });

  app.get('/api/v1/people', { config: { roles: ['admin'] }, schema: { tags: ['people'] } }, () => ctx.people.list());

  app.post('/api/v1/people', { config: { roles: ['admin'] }, schema: { tags: ['people'], body: NewPersonBodySchema } }, async (req, reply) => {
    const b = req.body;
    if (ctx.people.byUsername(b.username)) throw new HeatError('HEAT_ERR_CONFLICT', 'username taken');
    if (b.role === 'resident' && (!b.apartmentId || !ctx.registry.getApartment(b.apartmentId))) {
      throw new HeatError('HEAT_ERR_VALIDATION', 'body/apartmentId: a resident needs an existing apartment');
    }
    const p = ctx.people.create(b, ctx.clock.now());
    ctx.audit.add({ at: ctx.clock.now(), actor: who(req).username, entity: 'person', entityId: p.id, action: 'created', detail: { role: p.role } });
    void reply.code(201);
    return p;
  });

  app.post(
    '/api/v1/people/:id/disable',
    { config: { roles: ['admin'] }, schema: { tags: ['people'], params: IdParamsSchema, body: Type.Optional(Type.Object({ disabled: Type.Optional(Type.Boolean()) })) } },
    (req) => {
      const disabled = req.body?.disabled ?? true;
      if (!ctx.people.setDisabled(req.params.id, disabled)) throw new HeatError('HEAT_ERR_NOT_FOUND');
      if (disabled) ctx.people.deleteSessionsOf(req.params.id);
      ctx.audit.add({ at: ctx.clock.now(), actor: who(req).username, entity: 'person', entityId: req.params.id, action: disabled ? 'disabled' : 'enabled' });
      return ctx.people.get(req.params.id);
    },
  );
}
