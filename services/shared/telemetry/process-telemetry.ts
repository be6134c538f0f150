/** What the telemetry preload leaves for the process's lifecycle to finish. */
export interface Telemetry {
  /** Exports what is buffered and stops exporters and the metrics endpoint. */
  shutdown(): Promise<void>;
}

const none: Telemetry = { shutdown: async () => {} };
let current: Telemetry = none;

/**
 * Set once by the preload (register.ts). The preload and the entry point load
 * this same module (one URL, one ESM instance), which is how the SDK started
 * before main.js reaches the shutdown sequence that main.js owns.
 */
export function setProcessTelemetry(telemetry: Telemetry): void {
  current = telemetry;
}

/**
 * Flushes and stops the process's telemetry: a no-op when the preload did
 * not start any. Gives up after `timeoutMs` so that an unreachable collector
 * cannot hold a terminating pod past its grace period; spans still queued
 * then are lost.
 */
export async function shutdownProcessTelemetry(timeoutMs = 5000): Promise<void> {
  const telemetry = current;
  current = none;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`telemetry not flushed within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([telemetry.shutdown(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
