import { setTimeout as sleep } from 'node:timers/promises';

/** Exponential backoff for a loop that reconnects to a peer that may be down. */
export interface Backoff {
  /** The wait the next wait() would start from (before jitter), for logs. */
  readonly delayMs: number;
  /** Waits the current delay ±20% (resolves early when `signal` aborts), then doubles it up to maxMs. */
  wait(signal: AbortSignal): Promise<void>;
  /** Back to initialMs, after a success. */
  reset(): void;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** 100 ms doubling to 5 s: what the event transports and the relay use unless told otherwise. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5000 };

export function createBackoff(options: BackoffOptions = DEFAULT_BACKOFF): Backoff {
  let delayMs = options.initialMs;
  return {
    get delayMs() {
      return delayMs;
    },
    async wait(signal) {
      // ±20%: replicas that lost the same peer at once do not retry in step.
      const jitter = 0.8 + Math.random() * 0.4;
      await sleep(Math.round(delayMs * jitter), undefined, { signal }).catch(() => {});
      delayMs = Math.min(delayMs * 2, options.maxMs);
    },
    reset() {
      delayMs = options.initialMs;
    },
  };
}
