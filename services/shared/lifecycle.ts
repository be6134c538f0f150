import { describeError } from './error-mapper.js';
import type { GrpcServer } from './grpc-server.js';
import { ServingStatus } from './health.js';
import type { Logger } from './logger.js';

export interface ServiceProcess {
  server: GrpcServer;
  log: Logger;
  /** Resolves when dependencies (the store) are ready; health stays NOT_SERVING until then. */
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
}

/**
 * Owns a service process's lifecycle: listen, wait until ready, serve; on the
 * first SIGTERM or SIGINT go NOT_SERVING, drain, flush and close, exit 0; on a
 * second signal cancel everything and exit 1.
 */
export async function runService(service: ServiceProcess, options: RunOptions = {}): Promise<void> {
  const { server, log } = service;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping = false;

  async function stop(signal: string): Promise<void> {
    if (stopping) {
      log.warn({ signal }, 'second signal, forcing exit');
      server.forceShutdown();
      exit(1);
      return;
    }
    stopping = true;
    log.info({ signal }, 'shutting down: draining calls');
    await server.shutdown();
    for (const step of service.afterDrain) {
      try {
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
  await service.ready();
  if (!stopping) {
    server.health.set(ServingStatus.SERVING);
    log.info({ port }, 'serving');
  }
}
