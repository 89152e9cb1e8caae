/**
 * The InfluxDB v1 HTTP client: /write (line protocol, ms precision) and /query (InfluxQL),
 * with token or user/password auth and a per-request timeout. Owns nothing else: no schema,
 * no rollups, no reads (influx.store.ts composes them).
 */

export interface InfluxHttpOptions {
  readonly url: string;
  readonly db: string;
  readonly token?: string;
  readonly user?: string;
  readonly password?: string;
  /** Per-request timeout, ms. */
  readonly timeoutMs?: number;
}

export const quoteIdent = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
export const quoteStr = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export class InfluxHttpError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`influx ${status}: ${body.slice(0, 300)}`);
    this.name = 'InfluxHttpError';
  }
  /** 4xx other than 408/429 means the request itself is wrong; retrying will not help. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

export interface QueryResult {
  results?: {
    error?: string;
    series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
  }[];
  error?: string;
}

export class InfluxHttp {
  readonly #o: InfluxHttpOptions;
  readonly #headers: Record<string, string> = {};

  constructor(o: InfluxHttpOptions) {
    this.#o = o;
    if (o.token) this.#headers.authorization = `Token ${o.token}`;
  }

  get db(): string {
    return this.#o.db;
  }

  #url(path: string, params: Record<string, string>): URL {
    const u = new URL(`${this.#o.url}${path}`);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    if (!this.#o.token && this.#o.user) {
      u.searchParams.set('u', this.#o.user);
      u.searchParams.set('p', this.#o.password ?? '');
    }
    return u;
  }

  /** POST /write of line protocol (ms precision) into a retention policy. Throws InfluxHttpError on non-2xx. */
  async writeLines(body: string, rp: string): Promise<void> {
    const r = await fetch(this.#url('/write', { db: this.#o.db, rp, precision: 'ms' }), {
      method: 'POST',
      headers: { ...this.#headers, 'content-type': 'text/plain; charset=utf-8' },
      body,
      signal: AbortSignal.timeout(this.#o.timeoutMs ?? 30_000),
    });
    if (r.status !== 204 && r.status !== 200) throw new InfluxHttpError(r.status, await r.text());
    await r.arrayBuffer();
  }

  async query(q: string, opts: { db?: boolean } = {}): Promise<QueryResult> {
    const params: Record<string, string> = { epoch: 'ms' };
    if (opts.db !== false) params.db = this.#o.db;
    const r = await fetch(this.#url('/query', params), {
      method: 'POST',
      headers: { ...this.#headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ q }).toString(),
      signal: AbortSignal.timeout(this.#o.timeoutMs ?? 30_000),
    });
    const text = await r.text();
    if (!r.ok) throw new InfluxHttpError(r.status, text);
    const j = JSON.parse(text) as QueryResult;
    const err = j.error ?? j.results?.find((x) => x.error)?.error;
    if (err) throw new InfluxHttpError(400, err);
    return j;
  }
}
