/**
 * On-disk persistence: the broker process is SIGKILLed and restarted while the ingest is
 * offline with QoS 1 messages queued for its persistent session; every message arrives
 * after the restart. The broker runs as a real child process (`node --import tsx
 * broker/server.ts`, one process, so SIGKILL hits the broker itself, not a wrapper).
 */
import { describe, expect, it } from 'vitest';
import { topics } from '../domain/topics.ts';
import { connectDevice, parkIngestSession, resumeIngestSession } from '../broker/testing.fixture.ts';
import { brokerFixture } from './harness/broker.fixture.ts';
import { waitFor } from './harness/ports.ts';

describe('broker: on-disk persistence survives SIGKILL', () => {
  const broker = brokerFixture('broker-persist-');

  it('delivers every queued QoS 1 message to the ingest after kill -9 and restart', async () => {
    const { url } = broker;
    // The ingest's persistent session: subscribe, then go offline.
    await parkIngestSession(url);

    const N = 40;
    const dev = await connectDevice(url, 'dev-a');
    for (let n = 0; n < N; n++) await dev.publishAsync(topics.telemetry('dev-a'), JSON.stringify({ ts: n, temp: 20 }), { qos: 1 });
    // With ackAfterStore every PUBACK above already follows its store; this later PUBACK
    // is a barrier that also holds without it (aedes handles one client's packets in order),
    // tests/broker-durable.test.ts checks the PUBACK-after-store guarantee itself.
    await dev.publishAsync(topics.status('dev-a'), 'online', { qos: 1 });
    dev.stream.destroy();

    await broker.restart();

    const got = new Set<number>();
    const back = resumeIngestSession(url, (_t, p) => got.add((JSON.parse(p.toString()) as { ts: number }).ts));
    await waitFor(() => got.size === N, { what: `${N} queued readings`, timeoutMs: 45_000 }).catch((e: Error) => {
      throw new Error(`${e.message}: got ${got.size}; broker log: ${broker.process.log().slice(-3000)}`);
    });
    expect([...got].sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
    await back.endAsync();

    // A clean SIGTERM stop works too (and exits 0).
    await broker.process.kill('SIGTERM');
    expect(broker.process.exit().code).toBe(0);
  }, 150_000);
});
