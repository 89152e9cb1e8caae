/**
 * The engineer's replay workspace: scenarios (with their names in both UI languages), runs
 * that outlive the page (`GET /replay`), each run's sandboxed city and stations for the
 * console's map, station and building views, recordings uploaded as the request body, start
 * and stop. The replay itself lives in the simulators; the host (start.ts) injects a
 * ReplayControl. Progress is pushed as the socket `replay` event to admins and engineers.
 * Without a control: 503.
 */
import Type from 'typebox';
import { IdParamsSchema, NoContentSchema, ReplayBodySchema } from '../../domain/api.schema.ts';
import { ListOf } from '../../domain/list.schema.ts';
import { HeatError } from '../../domain/errors.ts';
import type { ReplayProgress } from '../../domain/events.ts';
import {
  ReplayCitySchema,
  ReplayRunSchema,
  ReplayStartedSchema,
  ReplayStationSchema,
  ReplayUploadSchema,
  ScenarioInfoSchema,
  type ReplayCity,
  type ReplayRun,
  type ReplayStation,
  type ReplayUpload,
  type ScenarioInfo,
} from '../../domain/replay.schema.ts';
import type { App } from '../context.ts';

export interface ReplayControl {
  scenarios(): readonly ScenarioInfo[] | Promise<readonly ScenarioInfo[]>;
  start(
    input: { readonly scenario?: string; readonly file?: string; readonly speed: number },
    onProgress: (p: ReplayProgress) => void,
  ): { runId: string; total?: number } | Promise<{ runId: string; total?: number }>;
  stop(runId: string): boolean | Promise<boolean>;
  runs(): readonly ReplayRun[];
  runCity(runId: string): ReplayCity | undefined;
  runStation(runId: string, stationId: string): ReplayStation | undefined;
  upload(body: Buffer, name?: string): ReplayUpload;
}

const ROLES = ['admin', 'engineer'] as const;
/** A recording uploaded through the page: the same limit as a CSV import (docs/errors.md). */
const UPLOAD_LIMIT_BYTES = 20 * 1024 * 1024;

export function registerReplayRoutes(app: App, control: ReplayControl | undefined, push: (p: ReplayProgress) => void): void {
  const need = (): ReplayControl => {
    if (!control) throw new HeatError('HEAT_ERR_UNAVAILABLE', 'replay is not available in this process');
    return control;
  };
  const tags = ['replay'];
  app.get(
    '/api/v1/replay/scenarios',
    { config: { roles: ROLES }, schema: { tags, response: { 200: ListOf(ScenarioInfoSchema) } } },
    async () => [...(await need().scenarios())],
  );
  app.get('/api/v1/replay', { config: { roles: ROLES }, schema: { tags, response: { 200: ListOf(ReplayRunSchema) } } }, () => [
    ...need().runs(),
  ]);
  app.get(
    '/api/v1/replay/:id',
    { config: { roles: ROLES }, schema: { tags, params: IdParamsSchema, response: { 200: ReplayCitySchema } } },
    (req) => {
      const city = need().runCity(req.params.id);
      if (!city) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such replay run');
      return city;
    },
  );
  app.get(
    '/api/v1/replay/:id/stations/:stationId',
    {
      config: { roles: ROLES },
      schema: {
        tags,
        params: Type.Object({ id: IdParamsSchema.properties.id, stationId: IdParamsSchema.properties.id }, { additionalProperties: false }),
        response: { 200: ReplayStationSchema },
      },
    },
    (req) => {
      const st = need().runStation(req.params.id, req.params.stationId);
      if (!st) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such replay run or station');
      return st;
    },
  );
  app.post(
    '/api/v1/replay/files',
    {
      config: { roles: ROLES },
      bodyLimit: UPLOAD_LIMIT_BYTES,
      schema: {
        tags,
        description:
          'Upload a recording (CSV with a ts,deviceId,… header, or InfluxDB line protocol) as the request body (text/csv or text/plain).',
        querystring: Type.Object({ name: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
        body: Type.String({ minLength: 1 }),
        response: { 201: ReplayUploadSchema },
      },
    },
    (req, reply) => {
      try {
        const r = need().upload(Buffer.from(req.body, 'utf8'), req.query.name);
        void reply.code(201);
        return r;
      } catch (err) {
        if (err instanceof HeatError) throw err;
        throw new HeatError('HEAT_ERR_VALIDATION', `body: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
  );
  app.post(
    '/api/v1/replay',
    { config: { roles: ROLES }, schema: { tags, body: ReplayBodySchema, response: { 202: ReplayStartedSchema } } },
    async (req, reply) => {
      if (!req.body.scenario === !req.body.file)
        throw new HeatError('HEAT_ERR_VALIDATION', 'body/scenario: give a scenario or an uploaded file, not both');
      const run = await need().start(req.body, push);
      void reply.code(202);
      return run;
    },
  );
  app.delete(
    '/api/v1/replay/:id',
    { config: { roles: ROLES }, schema: { tags, params: IdParamsSchema, response: { 204: NoContentSchema } } },
    async (req, reply) => {
      if (!(await need().stop(req.params.id))) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such replay run');
      return reply.code(204).send(null);
    },
  );
}
