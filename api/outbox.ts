/**
 * Transactional outbox for live events (issue #15): events raised inside a SQLite
 * transaction wait here and leave only after the outermost transaction commits; a rollback
 * (a throw) drops those raised inside it. Outside any transaction an event leaves at once.
 */
export class Outbox {
  #pending: (() => void)[] = [];
  #depth = 0;

  /** Run `fn` inside `transaction` (e.g. better-sqlite3's), holding events until it commits. */
  run<T>(transaction: (fn: () => T) => T, fn: () => T): T {
    const mark = this.#pending.length;
    this.#depth++;
    let ok = false;
    try {
      const out = transaction(fn);
      ok = true;
      return out;
    } finally {
      this.#depth--;
      if (!ok) this.#pending.length = mark; // rolled back: its events never happened
      if (this.#depth === 0) {
        const send = this.#pending;
        this.#pending = [];
        if (ok) for (const f of send) f();
      }
    }
  }

  /** Send now, or after commit when a transaction is open. */
  push(send: () => void): void {
    if (this.#depth === 0) send();
    else this.#pending.push(send);
  }

  get pending(): number {
    return this.#pending.length;
  }
}
