import { createServer, connect, type Server, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from './coalesce-writes.patch.ts';

/** A loopback socket pair: `a` writes (coalesced), `received()` is everything `b` read until it closed. */
async function pair(): Promise<{ a: Socket; received: Promise<Buffer>; server: Server }> {
  let received!: Promise<Buffer>;
  const server = createServer();
  const accepted = new Promise<void>((resolve) =>
    server.once('connection', (b: Socket) => {
      const chunks: Buffer[] = [];
      received = new Promise((done) => {
        b.on('data', (d: Buffer) => chunks.push(d));
        b.on('close', () => done(Buffer.concat(chunks)));
      });
      resolve();
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const a = connect(port, '127.0.0.1');
  await Promise.all([new Promise((r) => a.once('connect', r)), accepted]);
  return { a, received: accepted.then(() => received), server };
}

const puback = (messageId: number) => ({ cmd: 'puback' as const, messageId });
const expected = (ids: number[]) => Buffer.concat(ids.map((id) => mqttPacket.generate(puback(id))));

describe('coalesceWrites', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('sends the packets of one event-loop turn in one write, in order', async () => {
    const p = await pair();
    server = p.server;
    coalesceWrites(p.a);
    let writes = 0;
    const s = p.a as unknown as { _writev: (...a: unknown[]) => void; _write: (...a: unknown[]) => void };
    for (const k of ['_writev', '_write'] as const) {
      const orig = s[k].bind(p.a);
      s[k] = (...args: unknown[]) => {
        writes++;
        orig(...args);
      };
    }
    const ids = Array.from({ length: 10 }, (_, i) => i + 1);
    // Like aedes: each packet from its own setImmediate callback.
    await Promise.all(ids.map((id) => new Promise<void>((r) => setImmediate(() => (mqttPacket.writeToStream(puback(id), p.a), r())))));
    await new Promise((r) => setImmediate(r));
    p.a.end();
    expect(await p.received).toEqual(expected(ids));
    expect(writes).toBe(1);
  });

  it('flushes corked packets before destroy (a refused CONNACK still reaches the client)', async () => {
    const p = await pair();
    server = p.server;
    coalesceWrites(p.a);
    mqttPacket.writeToStream(puback(7), p.a);
    mqttPacket.writeToStream(puback(8), p.a);
    await Promise.resolve(); // the next-tick uncork has run, the flush has not
    p.a.destroy();
    expect(await p.received).toEqual(expected([7, 8]));
  });
});
