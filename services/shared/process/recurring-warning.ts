import type { Logger } from './logger.js';

/** A warning that may recur many times a second, written as one line per interval. */
export interface RecurringWarning {
  /**
   * Counts one occurrence. The first after a quiet interval is written at
   * once (`count: 1`); the rest are counted, and each interval that had any
   * ends with one line saying how many (`count`, `interval_ms`), with the
   * fields and logger of the latest.
   */
  record(log: Logger, fields?: Record<string, unknown>): void;
}

/**
 * One line per interval instead of one per occurrence: during an outage a
 * busy service meets the same failure thousands of times a second, and a line
 * for each buries everything else (and costs CPU and log storage when it is
 * needed least). The count keeps the lines honest: the sum of `count` over
 * the lines is the number of occurrences.
 */
export function recurringWarning(message: string, intervalMs: number): RecurringWarning {
  let open = false;
  let count = 0;
  let latest: { log: Logger; fields: Record<string, unknown> } | undefined;
  const closeInterval = () => {
    if (count === 0 || !latest) {
      open = false;
      return;
    }
    latest.log.warn({ ...latest.fields, count, interval_ms: intervalMs }, message);
    count = 0;
    setTimeout(closeInterval, intervalMs).unref();
  };
  return {
    record(log, fields = {}) {
      if (!open) {
        open = true;
        log.warn({ ...fields, count: 1 }, message);
        setTimeout(closeInterval, intervalMs).unref();
        return;
      }
      count++;
      latest = { log, fields };
    },
  };
}
