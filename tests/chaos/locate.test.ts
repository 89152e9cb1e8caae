/**
 * The chaos suite's stage naming on a real spool written by the broker's writer class: a
 * reading marked stored names the store, a committed one not stored names the ingest, one
 * written past the committed marker names the spool file, one never spooled names the broker.
 * SpoolTail must read without changing anything (no marker, no lock).
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRecords, spoolDir, writeMarker } from '../../storage/spool/spool.format.ts';
import { SpoolRepository } from '../../storage/spool/spool.repository.ts';
import { keysOf, locate, readingKey } from './locate.ts';
import { SpoolTail } from './spool-tail.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const msg = (device: string, ts: number) => ({
  topic: `heat/v1/devices/${device}/telemetry`,
  payload: Buffer.from(JSON.stringify({ ts, temp: 21 })),
  at: ts,
});

describe('chaos locate', () => {
  it('names the last stage from the spool files and markers', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chaos-locate-'));
    dirs.push(dataDir);
    const spool = SpoolRepository.open(dataDir, 'normal', { sharedWithReader: true });
    await spool.appendBatch([msg('d1', 1000), msg('d1', 2000)]); // seq 1, 2
    await spool.appendBatch([msg('d2', 3000)]); // seq 3
    writeMarker(spoolDir(dataDir), 'stored', 2);
    const before = readdirSync(spoolDir(dataDir)).sort();

    const tail = new SpoolTail(dataDir, true);
    const seqs = new Map<string, number[]>();
    for (const e of tail.poll()) for (const k of keysOf(e.topic, e.payload)) seqs.set(k, [e.seq]);
    expect(seqs.get(readingKey('d1', 2000))).toEqual([2]);
    expect(seqs.get(readingKey('d2', 3000))).toEqual([3]);

    // A record past the committed marker (a write the broker never committed).
    const seg = join(
      spoolDir(dataDir),
      before.find((f) => f.endsWith('.seg'))!,
    );
    appendFileSync(seg, encodeRecords([msg('d3', 4000)]));
    expect(tail.poll()).toEqual([]); // not committed: not taken

    const found = await locate([readingKey('d1', 2000), readingKey('d2', 3000), readingKey('d3', 4000), readingKey('d4', 5000)], {
      feed: 'spool',
      tail,
      seqs,
      brokerDir: join(dataDir, 'broker'),
      ingestClientId: 'svc-ingest',
    });
    expect(found.map((f) => f.stage.split(':')[0])).toEqual(['store', 'ingest', 'spool file past the committed marker', 'broker']);
    expect(found[2]!.stage).toContain('seq 4 > committed 3');
    // Read-only: the same files, the broker's committed marker untouched.
    expect(readdirSync(spoolDir(dataDir)).sort()).toEqual(before);
    expect(readFileSync(join(spoolDir(dataDir), 'committed'), 'utf8').trim()).toBe('3');
    await spool.close();
  });

  it('follows the spool across segments and after the old ones are trimmed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chaos-locate-'));
    dirs.push(dataDir);
    const seen: number[] = [];
    const tail = new SpoolTail(dataDir, true);
    for (let run = 0; run < 3; run++) {
      // Each open starts a new segment (named by its first seq), as after a broker restart.
      const spool = SpoolRepository.open(dataDir, 'normal', { sharedWithReader: true });
      await spool.appendBatch([msg('d', run * 10 + 1), msg('d', run * 10 + 2)]);
      await spool.close();
      if (run === 2) {
        // The ingest trimmed the two older segments before the tail looked again.
        for (const f of readdirSync(spoolDir(dataDir))
          .filter((f) => f.endsWith('.seg'))
          .sort()
          .slice(0, 2))
          rmSync(join(spoolDir(dataDir), f));
      }
      seen.push(...tail.poll().map((e) => e.seq));
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(readdirSync(spoolDir(dataDir)).filter((f) => f.endsWith('.seg'))).toHaveLength(1);
  });
});
