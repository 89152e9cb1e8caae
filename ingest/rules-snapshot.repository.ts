/**
 * The rules state on disk: `${dataDir}/rules-snapshot.json` holds the engine snapshot, the
 * per-device last event time handed to the engine, and the spool sequence number the
 * snapshot covers. Every reader (ingest/server.ts, start.ts, tests) goes through here.
 *
 * Written atomically and durably (temp file, fdatasync, rename) with async fs: the write
 * runs on libuv's thread pool, so a 100 MB snapshot does not stall the socket reads.
 *
 * A snapshot the engine refuses (unreadable JSON, an unknown version, columns that do not
 * line up) is set aside as `rules-snapshot.json.refused-<time>` and logged, so the engine
 * starts fresh and the next periodic write does not overwrite the evidence.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
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

/** Where a refusal is told (a pino logger fits). */
export interface SnapshotLog {
  error(obj: object, msg: string): void;
}

export class RulesSnapshotRepository {
  readonly #dataDir: string;
  readonly #now: () => number;

  constructor(dataDir: string, opts: { now?: () => number } = {}) {
    this.#dataDir = dataDir;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Read the last snapshot and hand it to `restore` (e.g. liveRules → RulesEngine.restore).
   * Undefined when there is none, or when reading or restoring it failed: then the file is
   * set aside (setAside) and the refusal logged with where the file went.
   */
  load<T>(restore: (snap: RulesSnapshot) => T, log: SnapshotLog): { readonly snapshot: RulesSnapshot; readonly restored: T } | undefined {
    try {
      const snapshot = this.read();
      return snapshot ? { snapshot, restored: restore(snapshot) } : undefined;
    } catch (e) {
      let keptAs: string | undefined;
      try {
        keptAs = this.setAside();
      } catch (renameErr) {
        log.error({ err: String(renameErr) }, 'refused rules snapshot could not be set aside; the next snapshot will replace it');
      }
      log.error({ err: String(e), keptAs }, 'rules snapshot refused and set aside; the rules engine starts fresh');
      return undefined;
    }
  }

  /** Move the current snapshot to `<name>.refused-<ISO time>` (a suffix when taken); its new path, or undefined when there is none. */
  setAside(): string | undefined {
    const file = rulesSnapshotFile(this.#dataDir);
    if (!existsSync(file)) return undefined;
    const base = `${file}.refused-${new Date(this.#now()).toISOString().replace(/[:.]/g, '-')}`;
    let to = base;
    for (let i = 1; existsSync(to); i++) to = `${base}-${i}`;
    renameSync(file, to);
    return to;
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
