import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InfluxHttp, InfluxHttpError } from './influx.http.ts';
import { migrateInflux } from './influx.schema.ts';

/** A stand-in for influxd's /query that answers every statement with one status and body. */
async function answering(status: number, body: string): Promise<{ http: InfluxHttp; server: Server; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      seen.push(new URLSearchParams(data).get('q') ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { http: new InfluxHttp({ url: `http://127.0.0.1:${port}`, db: 'heat' }), server, seen };
}

describe('migrateInflux', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it.each([401, 403, 404])(
    'refuses to start on %i (credentials or endpoint wrong), instead of running without a schema',
    async (status) => {
      const s = await answering(status, '{"error":"authorization failed"}');
      server = s.server;
      await expect(migrateInflux(s.http)).rejects.toSatisfy((e) => e instanceof InfluxHttpError && e.status === status);
    },
  );

  it('runs without the hourly series where the DDL is refused as unsupported (2.x/3.x: 400)', async () => {
    const s = await answering(400, '{"error":"not implemented: CREATE DATABASE"}');
    server = s.server;
    await expect(migrateInflux(s.http)).resolves.toBe(false);
    expect(s.seen[0]).toBe('CREATE DATABASE "heat"');
  });

  it('creates the schema where influxd accepts it (1.x)', async () => {
    const s = await answering(200, '{"results":[{"statement_id":0}]}');
    server = s.server;
    await expect(migrateInflux(s.http, '400d')).resolves.toBe(true);
    expect(s.seen).toContain('CREATE RETENTION POLICY raw ON "heat" DURATION 400d REPLICATION 1 DEFAULT');
    expect(s.seen.filter((q) => q.startsWith('CREATE CONTINUOUS QUERY'))).toHaveLength(6);
  });
});
