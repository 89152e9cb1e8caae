/** Free TCP ports on the loopback interface, for throwaway services in tests and benches. */
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const OVERRUN = Symbol('overrun');

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const what = opts.what ?? 'condition';
  let lastErr: unknown;
  for (;;) {
    // An attempt that never settles (e.g. a PUBLISH whose PUBACK never comes) is cut off at
    // the deadline too: without this, waitFor held its caller for ever.
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<typeof OVERRUN>((r) => (timer = setTimeout(() => r(OVERRUN), Math.max(0, deadline - Date.now()))));
    let v: T | undefined | false | typeof OVERRUN = undefined;
    try {
      v = await Promise.race([Promise.resolve().then(fn), overrun]);
    } catch (e) {
      lastErr = e;
    } finally {
      clearTimeout(timer);
    }
    if (v === OVERRUN)
      throw new Error(`timed out waiting for ${what}: an attempt was still unanswered at the deadline (${opts.timeoutMs ?? 10_000} ms)`);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${lastErr ? `: ${lastErr instanceof Error ? lastErr.message : JSON.stringify(lastErr)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
