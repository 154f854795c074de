// GCRA (generic cell rate algorithm): `burst` requests at once, then one every `periodMs`.
// One timestamp per key; idle keys are swept in the background.
import { RateLimitedError } from '../errors.ts';

export const SWEEP_INTERVAL_MS = 10_000;

export class RateLimiter {
  readonly #periodMs: number;
  readonly #toleranceMs: number;
  /** key -> theoretical arrival time of the next request */
  readonly #tat = new Map<string, number>();
  readonly #sweep: NodeJS.Timeout | null;

  constructor(burst: number, periodMs: number) {
    this.#periodMs = periodMs;
    this.#toleranceMs = periodMs * (burst - 1);
    this.#sweep = periodMs > 0 ? setInterval(() => this.sweep(), SWEEP_INTERVAL_MS) : null;
    this.#sweep?.unref();
  }

  /** 0 when allowed (and counted), else how many ms until it would be. */
  check(key: string, now = Date.now()): number {
    if (this.#periodMs === 0) return 0;
    const tat = Math.max(this.#tat.get(key) ?? now, now);
    const wait = tat - now - this.#toleranceMs;
    if (wait > 0) return wait;
    this.#tat.set(key, tat + this.#periodMs);
    return 0;
  }

  /** Throws RateLimitedError when `key` is over its rate. */
  take(key: string, what: string): void {
    const wait = this.check(key);
    if (wait > 0) throw new RateLimitedError(`${what}: rate limit exceeded, retry in ${Math.ceil(wait)} ms`, wait);
  }

  sweep(now = Date.now()): void {
    for (const [key, tat] of this.#tat) if (tat <= now) this.#tat.delete(key);
  }

  get size(): number {
    return this.#tat.size;
  }

  close(): void {
    if (this.#sweep) clearInterval(this.#sweep);
  }
}
