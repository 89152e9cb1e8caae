/**
 * Connections that have not completed an accepted CONNECT yet, per remote address (issue
 * 13, finding 9). Past `limit` for one address the oldest of them is dropped, not the new
 * one: an attacker holding sockets open without a CONNECT only ever evicts its own oldest
 * sockets, while a real client (whose CONNECT follows its handshake at once) still gets in,
 * also behind a NAT shared with the attacker. Insertion order of a Set is arrival order.
 */
export class PendingConnections<C extends object> {
  readonly #byAddress = new Map<string, Set<C>>();
  readonly #address = new WeakMap<C, string>();
  #size = 0;

  constructor(
    private readonly limit: number,
    private readonly drop: (c: C) => void,
  ) {}

  /** A connection opened; returns the evicted connection when the address was over its limit. */
  add(address: string | undefined, c: C): C | undefined {
    const key = address ?? '?';
    let set = this.#byAddress.get(key);
    if (!set) this.#byAddress.set(key, (set = new Set()));
    set.add(c);
    this.#address.set(c, key);
    this.#size++;
    if (set.size <= this.limit) return undefined;
    const oldest = set.values().next().value as C;
    this.delete(oldest);
    this.drop(oldest);
    return oldest;
  }

  /** Authenticated or closed: no longer pending. */
  delete(c: C): void {
    const key = this.#address.get(c);
    if (key === undefined) return;
    this.#address.delete(c);
    const set = this.#byAddress.get(key);
    if (set?.delete(c)) this.#size--;
    if (set && set.size === 0) this.#byAddress.delete(key);
  }

  get size(): number {
    return this.#size;
  }
}
