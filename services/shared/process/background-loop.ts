import type { Logger } from './logger.js';

/** Work that runs in the background while the process runs (a relay, a consumer). */
export interface BackgroundLoop {
  /** Starts it; calling it again does nothing. */
  start(): void;
  /** Aborts its signal and resolves once `run` has returned (its work in flight finished). */
  stop(): Promise<void>;
}

/**
 * Runs `run(signal)` from start() until stop(), logging `<name> starting`
 * with `fields`. `run` handles its own failures (it retries an outage), so a
 * rejection is a bug: logged as `<name> stopped unexpectedly`, never thrown.
 */
export function createBackgroundLoop(options: {
  name: string;
  fields: Record<string, unknown>;
  log: Logger;
  run(signal: AbortSignal): Promise<void>;
}): BackgroundLoop {
  const { name, fields, log, run } = options;
  let running: { controller: AbortController; done: Promise<void> } | undefined;
  return {
    start() {
      if (running) return;
      const controller = new AbortController();
      log.info(fields, `${name} starting`);
      const done = run(controller.signal).catch((error: unknown) => {
        log.error({ err: error }, `${name} stopped unexpectedly`);
      });
      running = { controller, done };
    },
    async stop() {
      if (!running) return;
      running.controller.abort();
      await running.done;
    },
  };
}
