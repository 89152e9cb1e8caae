/**
 * Onboarding (issue 14): create, update and retire offices, heat sources, stations (with their
 * meters), buildings, apartments (with rooms from a list or a named layout) and rooms, one
 * at a time or one CSV file per kind. Admins and engineers only; every route says so in its
 * config (default-deny). The handlers delegate to onboarding.service.ts.
 */
import Type, { type TSchema } from 'typebox';
import { IdParamsSchema, ImportReportSchema } from '../../domain/api.schema.ts';
import {
  ApartmentBodySchema,
  BuildingBodySchema,
  LAYOUT_TEMPLATES,
  LayoutsSchema,
  ONBOARDED_SCHEMAS,
  OfficeBodySchema,
  ONBOARDING_COLUMNS,
  OnboardingKindParamsSchema,
  RetiredSchema,
  RoomBodySchema,
  SourceBodySchema,
  StationBodySchema,
  type OnboardingKind,
} from '../../domain/onboarding.schema.ts';
import { HeatError } from '../../domain/errors.ts';
import { STAFF_ROLES } from '../auth.service.ts';
import { who, type ApiContext, type App } from '../context.ts';
import { createOne, importOnboardingCsv, retireOne, updateOne } from '../onboarding.service.ts';

const WRITERS = { roles: ['admin', 'engineer'] as const };

const BODIES: Record<OnboardingKind, TSchema> = {
  offices: OfficeBodySchema,
  sources: SourceBodySchema,
  stations: StationBodySchema,
  buildings: BuildingBodySchema,
  apartments: ApartmentBodySchema,
  rooms: RoomBodySchema,
};

export function registerOnboardingRoutes(app: App, ctx: ApiContext): void {
  const tags = ['onboarding'];
  app.get(
    '/api/v1/layouts',
    {
      config: { roles: STAFF_ROLES },
      schema: {
        tags,
        description: 'Named apartment layouts: the rooms an apartment gets from `layout`.',
        response: { 200: LayoutsSchema },
      },
    },
    () => LAYOUT_TEMPLATES,
  );

  for (const kind of Object.keys(BODIES) as OnboardingKind[]) {
    const body = BODIES[kind];
    const answer: TSchema = ONBOARDED_SCHEMAS[kind];
    app.post(
      `/api/v1/${kind}`,
      { config: WRITERS, schema: { tags, body, description: `Create one of ${kind}.`, response: { 201: answer } } },
      async (req, reply) => {
        const out = await createOne(ctx, kind, req.body as Record<string, unknown>, who(req).username);
        void reply.code(201);
        return out;
      },
    );
    app.put(
      `/api/v1/${kind}/:id`,
      {
        config: WRITERS,
        schema: {
          tags,
          params: IdParamsSchema,
          body,
          description: `Replace one of ${kind} (the body's id is the path's).`,
          response: { 200: answer },
        },
      },
      (req) => updateOne(ctx, kind, req.params.id, req.body as Record<string, unknown>, who(req).username),
    );
    app.delete(
      `/api/v1/${kind}/:id`,
      {
        config: WRITERS,
        schema: {
          tags,
          params: IdParamsSchema,
          description: `Retire one of ${kind}; refused (409, details.dependents) while anything hangs on it.`,
          response: { 200: RetiredSchema },
        },
      },
      (req) => retireOne(ctx, kind, req.params.id, who(req).username),
    );
  }

  const columns = Object.entries(ONBOARDING_COLUMNS)
    .map(([k, c]) => `${k}: ${c.required.join(', ')}${c.optional.length ? ` [${c.optional.join(', ')}]` : ''}`)
    .join('; ');
  app.post(
    '/api/v1/onboarding/import/:kind',
    {
      config: WRITERS,
      schema: {
        tags,
        params: OnboardingKindParamsSchema,
        consumes: ['text/csv'],
        body: Type.String({ description: `CSV, header row first, exactly these columns (optional in brackets): ${columns}` }),
        response: { 201: ImportReportSchema },
        description: 'Import one CSV file of one kind: all rows or none (422 HEAT_ERR_IMPORT_INVALID with the row-by-row report).',
      },
      // The media type is checked before the body schema: JSON here is a 415, not a 400.
      preValidation: (req, _reply, done) => {
        if (!String(req.headers['content-type'] ?? '').startsWith('text/csv'))
          done(new HeatError('HEAT_ERR_UNSUPPORTED_MEDIA', 'send the CSV as text/csv'));
        else done();
      },
    },
    async (req, reply) => {
      const report = await importOnboardingCsv(ctx, req.params.kind, req.body, who(req).username);
      void reply.code(201);
      return report;
    },
  );
}
