/**
 * A session queue's index of positions by broker identity (`brokerId`, `brokerCounter`: the
 * pair aedes uses to find a queued packet again when it gives it a messageId), for
 * journal.queue.ts. Keyed by the pair itself — per broker id, a map by counter — not by a
 * string built from it: `${brokerId}\0${brokerCounter}` made four ~45-character strings per
 * message (push, assign, clear's get and delete), each flattened and hashed, ~0.8 µs per
 * message of the MQTT feed's broker CPU (issue 19). Counters are numbers (small integers),
 * hashed for free; the broker id of the last call is kept, as nearly every packet of a
 * session comes from the one broker process.
 */
type BrokerId = string | undefined;
type Counter = number | undefined;

export class IdentityIndex {
  readonly #byBroker = new Map<BrokerId, Map<Counter, number>>();
  #lastBroker: BrokerId;
  #last: Map<Counter, number> | undefined;

  #positions(brokerId: BrokerId, create: boolean): Map<Counter, number> | undefined {
    if (this.#last && brokerId === this.#lastBroker) return this.#last;
    let m = this.#byBroker.get(brokerId);
    if (!m && create) this.#byBroker.set(brokerId, (m = new Map()));
    if (m) {
      this.#lastBroker = brokerId;
      this.#last = m;
    }
    return m;
  }

  get(brokerId: BrokerId, counter: Counter): number | undefined {
    return this.#positions(brokerId, false)?.get(counter);
  }

  set(brokerId: BrokerId, counter: Counter, at: number): void {
    this.#positions(brokerId, true)!.set(counter, at);
  }

  delete(brokerId: BrokerId, counter: Counter): void {
    const m = this.#positions(brokerId, false);
    if (!m?.delete(counter) || m.size || m === this.#last) return;
    // An earlier broker process' packets are all gone: forget its id.
    this.#byBroker.delete(brokerId);
  }
}
