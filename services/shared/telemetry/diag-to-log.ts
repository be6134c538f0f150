import type { DiagLogger } from '@opentelemetry/api';
import type { Logger } from '../process/logger.js';

/** OTel's internal warnings (failed exports, dropped spans) as log lines, each at most once a minute. */
export function diagToLog(log: Logger): DiagLogger {
  const lastSeen = new Map<string, number>();
  const write =
    (level: 'warn' | 'error') =>
    (message: string, ...args: unknown[]) => {
      const now = Date.now();
      if (now - (lastSeen.get(message) ?? -Infinity) < 60_000) return;
      lastSeen.set(message, now);
      const detail = args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
      log[level]({ detail: detail.slice(0, 500) }, `telemetry: ${message}`.slice(0, 200));
    };
  const ignore = () => {};
  return {
    error: write('error'),
    warn: write('warn'),
    info: ignore,
    debug: ignore,
    verbose: ignore,
  };
}
