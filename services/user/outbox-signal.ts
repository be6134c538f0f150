import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Tells the event streams of this process that the outbox has grown, so
 * they send a new event at once instead of at their next poll. Polling stays
 * the rule, since other replicas on the same PostgreSQL database write events
 * too; the signal only cuts the latency of this process's own writes.
 */
export interface OutboxSignal {
  /** A number that changes with every notify(): read it before reading the outbox. */
  readonly version: number;
  notify(): void;
  /**
   * Resolves when the version is no longer `seen` (at once if it has already
   * changed), after `ms`, or when `signal` aborts, whichever comes first.
   */
  changedSince(seen: number, ms: number, signal: AbortSignal): Promise<void>;
}

export function createOutboxSignal(): OutboxSignal {
  let version = 0;
  const waiting = new Set<() => void>();
  return {
    get version() {
      return version;
    },
    notify() {
      version++;
      for (const wake of waiting) wake();
      waiting.clear();
    },
    async changedSince(seen, ms, signal) {
      if (version !== seen || signal.aborted) return;
      const woken = new AbortController();
      const wake = () => woken.abort();
      waiting.add(wake);
      try {
        await sleep(ms, undefined, { signal: AbortSignal.any([signal, woken.signal]) });
      } catch {
        // Woken or aborted: either way the caller looks again.
      } finally {
        waiting.delete(wake);
      }
    },
  };
}
