/**
 * Fault test: restart the broker mid-stream (100,000 readings from simulated devices). The
 * broker keeps the ingest's persistent session on disk (the journal); publishers and the
 * ingest reconnect; un-acked messages are resent by the publishers and redelivered by the
 * broker. Afterwards the number of points in InfluxDB equals the number published — exactly.
 */
import { describe, expect, it } from 'vitest';
import { useIngestFaultRig } from './harness/ingest-fault-rig.ts';

describe('ingest fault tolerance: broker restart (100,000 readings)', () => {
  // 1,000 devices × 100 readings, 10 per message: small backlogs keep the test under a minute on 2 cores.
  const rig = useIngestFaultRig({ devices: 1000, perDevice: 100, perMessage: 10, brokerOnDisk: true });

  it('loses nothing when the broker restarts mid-stream', async () => {
    await rig.startIngest();
    const restart = rig.whenStored(rig.total * 0.3).then(async () => {
      await rig.broker().close();
      await rig.startBroker();
    });
    const published = rig.publish();
    await restart;
    expect(await published).toBeGreaterThanOrEqual(rig.total);
    expect(await rig.storedOnceComplete()).toBe(rig.total);
  }, 120_000);
});
