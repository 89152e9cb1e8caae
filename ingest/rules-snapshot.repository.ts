/**
 * The rules state on disk: `${dataDir}/rules-snapshot.json` holds the engine snapshot, the
 * per-device last event time handed to the engine, and the spool sequence number the
 * snapshot covers. Every reader (ingest/server.ts, start.ts, tests) goes through here.
 *
 * Written atomically and durably (temp file, fdatasync, rename) with async fs: the write
 * runs on libuv's thread pool, so a 100 MB snapshot does not stall the socket reads.
 */
import { readFileSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';

export interface RulesSnapshot {
  /** Wall-clock time it was written, epoch ms. */
  readonly at: number;
  /** Last spool sequence number whose readings the engine state includes. */
  readonly seq: number;
  /** RulesPort.snapshot() of the engine. */
  readonly engine: unknown;
  readonly lastTs: Readonly<Record<string, number>>;
}

/** File the ingest writes the rules state to (engine snapshot + per-device last event time). */
export const rulesSnapshotFile = (dataDir: string) => join(dataDir, 'rules-snapshot.json');

export class RulesSnapshotRepository {
  readonly #dataDir: string;

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  /** The last snapshot, undefined when there is none; throws when the file is unreadable. */
  read(): RulesSnapshot | undefined {
    let text: string;
    try {
      text = readFileSync(rulesSnapshotFile(this.#dataDir), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const j = JSON.parse(text) as Partial<RulesSnapshot>;
    if (typeof j !== 'object' || j === null || j.engine === undefined) throw new Error('rules snapshot has no engine state');
    return { at: Number(j.at) || 0, seq: Number(j.seq) || 0, engine: j.engine, lastTs: j.lastTs ?? {} };
  }

  /** Resolves once the snapshot is durable under its final name. */
  async write(snap: RulesSnapshot): Promise<void> {
    await mkdir(this.#dataDir, { recursive: true });
    const file = rulesSnapshotFile(this.#dataDir);
    const fh = await open(`${file}.tmp`, 'w');
    try {
      await fh.writeFile(JSON.stringify(snap));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(`${file}.tmp`, file);
  }
}
