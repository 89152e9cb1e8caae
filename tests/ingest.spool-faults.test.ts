/**
 * Issue 17: a failed spool append must get no PUBACK, and nothing acknowledged may be lost.
 * The ingest runs as its own process with a thin fs wrapper (tests/harness/disk-faults.preload.mjs)
 * that fails its spool's writes with ENOSPC, then EIO, mid-stream under load. The ingest
 * is SIGKILLed while the disk is failing (had it acknowledged a message it could not spool,
 * that message would be gone from the broker and from the spool), recovers by itself from the
 * second fault without a restart, and is SIGKILLed once more afterwards (sequence numbers must
 * still match the disk). In the end influxd holds exactly every reading published.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useIngestFaultRig } from './harness/ingest-fault-rig.ts';

const PRELOAD = fileURLToPath(new URL('./harness/disk-faults.preload.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ingest spool: disk faults (ENOSPC, EIO) mid-stream', () => {
  const rig = useIngestFaultRig({ devices: 500, perDevice: 100, perMessage: 10, brokerOnDisk: false });

  it('acknowledges nothing it could not spool, loses nothing, recovers by itself, never exits on its own', async () => {
    const control = join(rig.dir(), 'fault');
    writeFileSync(control, '');
    const env = { NODE_OPTIONS: `--import ${PRELOAD}`, DISK_FAULT_FILE: control, DISK_FAULT_MATCH: join(rig.dir(), 'spool') };
    await rig.startIngest(env);
    const published = rig.publish();
    const t0 = Date.now();
    const mark = async (what: string) => console.log(`${what}: ${await rig.stored()} stored at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    await rig.whenStored(rig.total * 0.2);
    await mark('ENOSPC');
    writeFileSync(control, 'ENOSPC');
    await sleep(1_500);
    // Killed while its disk is full: whatever it had acknowledged must be in its spool.
    await rig.killIngest('SIGKILL');
    writeFileSync(control, '');
    await rig.startIngest(env);

    await rig.whenStored(rig.total * 0.5);
    await mark('EIO');
    writeFileSync(control, 'EIO');
    await sleep(1_500);
    writeFileSync(control, '');
    // No restart: the ingest reconnects and the broker redelivers by themselves.
    await mark('EIO cleared');
    // A tenth of the stream more, stored while this same process goes on.
    await rig.whenStored(Math.min(rig.total, (await rig.stored()) + rig.total * 0.1));
    await mark('kill 2');
    await rig.killIngest('SIGKILL');
    await rig.startIngest(env);

    await mark('restarted');
    expect(await published).toBe(rig.total);
    await mark('published');
    expect(await rig.storedOnceComplete()).toBe(rig.total);
  }, 240_000);
});
