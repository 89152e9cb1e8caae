/**
 * Replay control for engineers: list scenarios, start a replay, stop it. The replay itself
 * lives in the simulators; the host (start.ts) injects a ReplayControl. Progress is pushed as
 * the socket `replay` event to admins and engineers. Without a control: 503.
 */
import { IdParamsSchema, ReplayBodySchema } from '../../domain/api.schema.ts';
import { HeatError } from '../../domain/errors.ts';
import type { ReplayProgress } from '../../domain/events.ts';
import type { App } from '../context.ts';

export interface ReplayControl {
  scenarios(): readonly string[] | Promise<readonly string[]>;
  start(
    input: { readonly scenario?: string; readonly file?: string; readonly speed: number },
    onProgress: (p: ReplayProgress) => void,
  ): { runId: string; total?: number } | Promise<{ runId: string; total?: number }>;
  stop(runId: string): boolean | Promise<boolean>;
}

const ROLES = ['admin', 'engineer'] as const;

export function registerReplayRoutes(app: App, control: ReplayControl | undefined, push: (p: ReplayProgress) => void): void {
  const need = (): ReplayControl => {
    if (!control) throw new HeatError('HEAT_ERR_UNAVAILABLE', 'replay is not available in this process');
    return control;
  };
  const tags = ['replay'];
  app.get('/api/v1/replay/scenarios', { config: { roles: ROLES }, schema: { tags } }, async () => [...(await need().scenarios())]);
  app.post(
    '/api/v1/replay',
    {
      config: { roles: ROLES },
      schema: {
        tags,
        body: ReplayBodySchema,
      },
    },
    async (req, reply) => {
      if (!req.body.scenario && !req.body.file) throw new HeatError('HEAT_ERR_VALIDATION', 'body/scenario: give a scenario or a file');
      const run = await need().start(req.body, push);
      void reply.code(202);
      return run;
    },
  );
  app.delete('/api/v1/replay/:id', { config: { roles: ROLES }, schema: { tags, params: IdParamsSchema } }, async (req, reply) => {
    if (!(await need().stop(req.params.id))) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such replay run');
    return reply.code(204).send();
  });
}
