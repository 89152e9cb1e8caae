/**
 * Whether records.db takes writes (issue 17): a write that fails because of the disk (SQLite
 * SQLITE_FULL, SQLITE_IOERR…, a read-only or locked file) is a fault of the machine, not of
 * the request. The API answers it with HEAT_ERR_RECORDS_UNAVAILABLE (503, nothing saved: the
 * write's transaction rolled back), counts it and shows it in /health until a later write
 * succeeds — SQLite itself needs no restart once space is back.
 */

/** SQLite result codes (better-sqlite3's SqliteError.code) that mean "the file cannot be written now". */
const FAULT = /^SQLITE_(FULL|IOERR|READONLY|BUSY|LOCKED|CANTOPEN|NOMEM)(_|$)/;

export function isRecordsFault(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && FAULT.test(code);
}

export interface RecordsHealthState {
  readonly writable: boolean;
  /** Writes refused by the disk since start. */
  readonly writeFailures: number;
  /** The last fault (SQLite code and when), kept after recovery for the operator. */
  readonly lastFault?: { readonly code: string; readonly at: number };
}

export class RecordsHealth {
  #writable = true;
  #failures = 0;
  #last: { code: string; at: number } | undefined;

  constructor(private readonly now: () => number) {}

  /** A write failed; true when it was a disk fault (and so counted). */
  failed(err: unknown): boolean {
    if (!isRecordsFault(err)) return false;
    this.#writable = false;
    this.#failures++;
    this.#last = { code: String((err as { code: string }).code), at: this.now() };
    return true;
  }

  /** A write went through: the disk takes writes again. */
  succeeded(): void {
    this.#writable = true;
  }

  state(): RecordsHealthState {
    return { writable: this.#writable, writeFailures: this.#failures, ...(this.#last ? { lastFault: { ...this.#last } } : {}) };
  }
}
