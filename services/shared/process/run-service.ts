import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, summarizeError } from '../errors/describe-error.js';
import type { GrpcServer } from '../grpc/grpc-server.js';
import { ServingStatus } from '../grpc/health.js';
import type { Logger } from './logger.js';

/** What runService owns for one service process: its server, its readiness and its shutdown steps. */
export interface ServiceLifecycle {
  server: GrpcServer;
  log: Logger;
  /**
   * Resolves when dependencies (the store) are ready; health stays
   * NOT_SERVING until then. A rejection is logged and retried with backoff.
   */
  ready(): Promise<void>;
  /**
   * Run after the server has drained, in order: flush telemetry, then close
   * the store. Each gets to finish; a failing one is logged, not fatal.
   */
  afterDrain: readonly { name: string; run(): Promise<void> }[];
}

export interface RunOptions {
  signals?: readonly NodeJS.Signals[];
  exit?: (code: number) => void;
  /** Wait before retrying a failed ready(): doubles from initialMs up to maxMs (default 500ms, 15s). */
  readyRetry?: { initialMs: number; maxMs: number };
}

/**
 * Owns a service process's lifecycle: listen, wait until ready, serve; on the
 * first SIGTERM or SIGINT go NOT_SERVING, drain, flush and close, exit 0; on a
 * second signal cancel everything and exit 1.
 *
 * A dependency that is down at start (the database) is not a crash: ready()
 * is retried with backoff while health says NOT_SERVING, so the orchestrator
 * keeps the pod out of rotation and the log says why, one line per attempt.
 */
export async function runService(
  service: ServiceLifecycle,
  options: RunOptions = {},
): Promise<void> {
  const { server, log } = service;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const retry = options.readyRetry ?? { initialMs: 500, maxMs: 15_000 };
  const stopped = new AbortController();
  let stopping = false;

  async function stop(signal: string): Promise<void> {
    if (stopping) {
      log.warn({ signal }, 'second signal, forcing exit');
      server.forceShutdown();
      exit(1);
      return;
    }
    stopping = true;
    stopped.abort();
    log.info({ signal }, 'shutting down: draining calls');
    await server.shutdown();
    for (const step of service.afterDrain) {
      try {
        log.info({ step: step.name }, 'shutdown step');
        await step.run();
      } catch (error) {
        log.error({ step: step.name, err: describeError(error) }, 'shutdown step failed');
      }
    }
    log.info('stopped');
    exit(0);
  }

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => void stop(signal));
  }

  const port = await server.listen();
  log.info({ port }, 'listening');
  for (let attempt = 1, delayMs = retry.initialMs; !stopping; attempt++) {
    try {
      await service.ready();
      break;
    } catch (error) {
      if (stopping) break;
      log.error(
        { attempt, retry_in_ms: delayMs, err: summarizeError(error) },
        'not ready, retrying',
      );
      await sleep(delayMs, undefined, { signal: stopped.signal }).catch(() => {});
      delayMs = Math.min(delayMs * 2, retry.maxMs);
    }
  }
  if (!stopping) {
    server.health.set(ServingStatus.SERVING);
    log.info({ port }, 'serving');
  }
}
