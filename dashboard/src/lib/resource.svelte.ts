/**
 * One asynchronous load with its three visible states (loading, error, data/empty). Views
 * create one per request and call `load()` from an $effect; a newer load wins over an older one.
 */
export class Resource<T> {
  data = $state.raw<T | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  loading = $state(false);
  private seq = 0;

  constructor(private readonly fetcher: () => Promise<T>) {}

  load = async (): Promise<void> => {
    const my = ++this.seq;
    this.loading = true;
    this.error = undefined;
    try {
      const d = await this.fetcher();
      if (my === this.seq) this.data = d;
    } catch (e) {
      if (my === this.seq) this.error = e instanceof Error ? e.message : String(e);
    } finally {
      if (my === this.seq) this.loading = false;
    }
  };

  /** Replace the data locally (after a mutation the server confirmed). */
  set(d: T): void {
    this.data = d;
  }
}
