/** A ticking "now" for countdowns; views start it in an $effect and stop it on teardown. */
export class Ticker {
  now = $state(Date.now());

  start(everyMs = 1000): () => void {
    const h = setInterval(() => (this.now = Date.now()), everyMs);
    return () => clearInterval(h);
  }
}
