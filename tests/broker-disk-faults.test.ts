/**
 * Issue 17: a failed journal write must not be acknowledged. Before the fix the journal
 * resolved its waiting calls even when writeSync failed, so a PUBACK followed a failed store
 * (and a compaction failing inside a flush threw out of setImmediate and killed the broker).
 * The broker runs as its own process with a thin fs wrapper (tests/harness/disk-faults.preload.mjs)
 * that makes its journal's writes fail with ENOSPC, then EIO, mid-stream under load. Checked:
 * no PUBACK while the journal fails, the process never exits, and after the fault clears and
 * a SIGKILL every acknowledged message is still delivered to the ingest's persistent session.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { parkIngestSession, resumeIngestSession, serviceSecret } from '../broker/testing.fixture.ts';
import { topics } from '../domain/topics.ts';
import { brokerFixture } from './harness/broker.fixture.ts';
import { waitFor } from './harness/ports.ts';

const PRELOAD = fileURLToPath(new URL('./harness/disk-faults.preload.mjs', import.meta.url));
const TOTAL = 3_000;
const WINDOW = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('broker journal: disk faults (ENOSPC, EIO) mid-stream', () => {
  let control: string;
  // Telemetry goes through the journal (brokerProcess' INGEST_FEED=mqtt), which is what fails here.
  const fixture = brokerFixture('broker-disk-', {
    prepare: (dir) => {
      control = join(dir, 'fault');
      writeFileSync(control, '');
      return {
        LOG_LEVEL: 'error',
        NODE_OPTIONS: `--import ${PRELOAD}`,
        DISK_FAULT_FILE: control,
        DISK_FAULT_MATCH: join(dir, 'broker', 'journal'),
      };
    },
  });

  it('acknowledges nothing while the journal fails, loses nothing acknowledged, and never exits', async () => {
    const { url, process: broker } = fixture;
    await parkIngestSession(url);

    // The fault schedule, by acknowledged count: ENOSPC, a clear spell, EIO, clear.
    const faults: { mode: string; from: number; to?: number }[] = [];
    let mode = '';
    const setFault = (m: string) => {
      writeFileSync(control, m);
      const now = performance.now();
      if (mode) faults.at(-1)!.to = now;
      if (m) faults.push({ mode: m, from: now });
      mode = m;
    };

    // The simulator's account: a device would be held to its publish rate (20/s).
    const pub = mqtt.connect(url, {
      clientId: 'svc-sim-disk',
      username: 'svc-sim',
      password: serviceSecret('svc-sim'),
      protocolVersion: 4,
      reconnectPeriod: 100,
      clean: true,
    });
    const acked = new Map<number, number>(); // n → when its PUBACK came
    const sentAt = new Map<number, number>(); // n → when it was first published
    let next = 0;
    let inFlight = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const pump = () => {
      while (inFlight < WINDOW && next < TOTAL) {
        const n = next++;
        inFlight++;
        sentAt.set(n, performance.now());
        pub.publish(topics.telemetry('dev-a'), JSON.stringify({ ts: 1_700_000_000_000 + n, temp: 20, n }), { qos: 1 }, (err) => {
          inFlight--;
          if (!err) acked.set(n, performance.now());
          if (acked.size === TOTAL) done();
          pump();
        });
      }
    };
    pub.on('connect', pump);

    const t0 = performance.now();
    const mark = (what: string) => console.log(`${what}: ${acked.size} acknowledged at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await waitFor(() => acked.size >= 500, { timeoutMs: 30_000, what: 'first 500 acknowledged' });
    mark('ENOSPC');
    setFault('ENOSPC');
    await sleep(1_500);
    setFault('');
    mark('cleared');
    await waitFor(() => acked.size >= 1_500, { timeoutMs: 60_000, what: `1,500 acknowledged after ENOSPC cleared (${acked.size})` });
    mark('EIO');
    setFault('EIO');
    await sleep(1_500);
    setFault('');
    mark('cleared');
    await Promise.race([finished, waitFor(() => acked.size === TOTAL, { timeoutMs: 120_000, what: `all acknowledged (${acked.size})` })]);
    mark('all');
    await pub.endAsync();

    // No PUBACK for a message first published while a fault stood and acknowledged before it
    // cleared (the wrapper re-reads its control file every 20 ms: 100 ms margin). Judged by
    // send time, so a PUBACK this busy test process reads late is not mistaken for one.
    for (const f of faults) {
      const during = [...acked].filter(([n, t]) => sentAt.get(n)! > f.from + 100 && t < f.to!).length;
      expect(during, `PUBACKs during ${f.mode}`).toBe(0);
    }
    expect(broker.running(), broker.log()).toBe(true);
    // Reported once per failing spell.
    expect(broker.log()).toMatch(/ENOSPC/);
    expect(broker.log()).toMatch(/EIO/);

    // Crash, restart on the same disk, and read the ingest's queue: every acknowledged n.
    await broker.kill('SIGKILL');
    writeFileSync(control, '');
    await broker.start();
    const got = new Set<number>();
    const ingest = resumeIngestSession(url, (_t, payload) => got.add((JSON.parse(payload.toString()) as { n: number }).n));
    await waitFor(() => [...acked.keys()].every((n) => got.has(n)), {
      timeoutMs: 60_000,
      what: `acknowledged messages after the restart (${[...acked.keys()].filter((n) => !got.has(n)).length} missing)`,
    });
    await ingest.endAsync();
  }, 300_000);
});
