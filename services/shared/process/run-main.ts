import { describeError } from '../errors/describe-error.js';
import { shutdownProcessTelemetry } from '../telemetry/process-telemetry.js';
import { type Env, loadConfigOrExit } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { runService, type ServiceLifecycle } from './run-service.js';

export interface MainSpec<Config extends { logLevel: string }> {
  /** Service name for logs, e.g. `user-service`. */
  service: string;
  loadConfig(env: Env): Config;
  /** Wires dependencies; nothing may listen or connect before `runService` says so. */
  build(config: Config, log: Logger): Promise<ServiceLifecycle>;
}

/**
 * The body of a service's main.ts: read the environment, wire, run. A bad
 * setting stops the process with one line naming the variable.
 */
export function runMain<Config extends { logLevel: string }>(spec: MainSpec<Config>): void {
  const config = loadConfigOrExit(spec.service, spec.loadConfig);
  const log = createLogger({ service: spec.service, level: config.logLevel });
  spec
    .build(config, log)
    // Telemetry flushes first after the drain: the last calls' spans are all
    // ended by then, and a store that is slow to close cannot hold them back.
    .then((service) =>
      runService({
        ...service,
        afterDrain: [
          { name: 'flush telemetry', run: () => shutdownProcessTelemetry() },
          ...service.afterDrain,
        ],
      }),
    )
    .catch((error: unknown) => {
      log.fatal({ err: describeError(error) }, 'failed to start');
      process.exit(1);
    });
}
