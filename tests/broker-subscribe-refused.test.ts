/**
 * A filter refused in a SUBSCRIBE (SUBACK 0x80) is not stored for a persistent session, even
 * when another filter of the same packet is granted: nothing published on it is queued for the
 * session or delivered after a reconnect. Real broker process, on-disk journal (the default);
 * the Redis store is covered in tests/broker-cluster.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { topics } from '../domain/topics.ts';
import { connectDevice, connectService, resumeIngestSession, subackCodes } from '../broker/testing.fixture.ts';
import { brokerFixture } from './harness/broker.fixture.ts';
import { waitFor } from './harness/ports.ts';

describe('broker: a refused filter is not stored for a persistent session', () => {
  const broker = brokerFixture('broker-refused-');

  it('queues and delivers nothing of a refused filter granted beside an allowed one', async () => {
    const { url } = broker;
    // svc-ingest may read telemetry, not the devices' config topics.
    const ingest = await connectService(url, 'svc-ingest', { clean: false });
    const config = topics.config('dev-a');
    expect(await subackCodes(ingest, [topics.allTelemetry[0], config], 1)).toEqual([1, 128]);
    const online: string[] = [];
    ingest.on('message', (t, p) => online.push(`${t} ${p.toString()}`));

    const api = await connectService(url, 'svc-api');
    const dev = await connectDevice(url, 'dev-a');
    await api.publishAsync(config, '{"n":1}', { qos: 1 });
    await dev.publishAsync(topics.telemetry('dev-a'), '{"ts":1,"temp":21}', { qos: 1 });
    await waitFor(() => online.length >= 1, { what: 'the granted filter delivering' });
    await ingest.endAsync();

    // Offline: one message on each filter.
    await api.publishAsync(config, '{"n":2}', { qos: 1 });
    await dev.publishAsync(topics.telemetry('dev-a'), '{"ts":2,"temp":21}', { qos: 1 });
    const later: string[] = [];
    const back = resumeIngestSession(url, (t, p) => later.push(`${t} ${p.toString()}`));
    await waitFor(() => later.length >= 1, { what: 'the queued reading' });
    // A barrier: a reading published after reconnecting arrives after anything queued before.
    await dev.publishAsync(topics.telemetry('dev-a'), '{"ts":3,"temp":21}', { qos: 1 });
    await waitFor(() => later.some((m) => m.endsWith('{"ts":3,"temp":21}')), { what: 'the live reading' });

    const telemetry = topics.telemetry('dev-a');
    expect(online).toEqual([`${telemetry} {"ts":1,"temp":21}`]);
    expect(later).toEqual([`${telemetry} {"ts":2,"temp":21}`, `${telemetry} {"ts":3,"temp":21}`]);
    for (const c of [back, api, dev]) await c.endAsync();
  }, 60_000);
});
