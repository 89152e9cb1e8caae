/**
 * Fault tests of the at-least-once chain, each with a stream of 100,000 readings from
 * simulated devices: SIGKILL the ingest process mid-stream and restart it; stop influxd for
 * 30 s mid-stream (the spool fills to its bound, the ingest stops acking, the broker holds the
 * rest). After each, the number of points in InfluxDB equals the number published — exactly
 * (redelivered duplicates overwrite themselves). The broker restart is
 * ingest.broker-restart.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SpoolRepository } from '../ingest/spool.repository.ts';
import { useIngestFaultRig } from './harness/ingest-fault-rig.ts';

/** Spool bound (messages) of the influxd-outage test: far less than the stream. */
const SPOOL_MAX = 5000;

describe('ingest fault tolerance (100,000 readings each)', () => {
  // In-memory broker sessions: the broker stays up in these tests. 1,000 devices × 100
  // readings, 10 per message: small backlogs keep each test under a minute on 2 cores.
  const rig = useIngestFaultRig({ devices: 1000, perDevice: 100, perMessage: 10, brokerOnDisk: false });

  it('loses nothing when the ingest is SIGKILLed mid-stream and restarted', async () => {
    await rig.startIngest();
    const killAt = rig.whenStored(rig.total * 0.3).then(() => rig.killIngest('SIGKILL'));
    const published = rig.publish();
    await killAt;
    const atKill = await rig.stored();
    expect(atKill).toBeLessThan(rig.total);
    await rig.startIngest();
    expect(await published).toBe(rig.total);
    expect(await rig.storedOnceComplete()).toBe(rig.total);
  }, 120_000);

  it('loses nothing when influxd is down for 30 s mid-stream (spool bound → broker holds the rest)', async () => {
    // A small spool bound so the outage fills it and the ingest has to stop acking.
    await rig.startIngest({ INGEST_SPOOL_MAX: String(SPOOL_MAX) });
    let downAt = 0;
    const outage = rig.whenStored(rig.total * 0.1).then(async () => {
      downAt = await rig.stored();
      await rig.influxd().kill('SIGKILL');
    });
    const published = rig.publish();
    await outage;
    // The outage itself is the scenario: 30 s of wall time with influxd gone.
    await new Promise((r) => setTimeout(r, 30_000));
    try {
      // Meanwhile the spool filled to its bound and stopped there: the ingest stopped
      // acking, and the broker holds the rest in the ingest's persistent session.
      const pending = SpoolRepository.pending(rig.dir());
      expect(pending).toBeGreaterThan(0);
      expect(pending).toBeLessThanOrEqual(SPOOL_MAX);
      expect(await rig.stored()).toBe(-1);
    } finally {
      await rig.influxd().start();
    }
    expect(await published).toBe(rig.total);
    expect(downAt).toBeLessThan(rig.total);
    expect(await rig.storedOnceComplete()).toBe(rig.total);
  }, 120_000);
});
