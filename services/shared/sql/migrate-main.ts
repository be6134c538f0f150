import { summarizeError } from '../errors/describe-error.js';
import { type Env, loadConfigOrExit } from '../process/config.js';
import { createLogger } from '../process/logger.js';
import type { StorageConfig } from '../process/service-config.js';
import { openSqlClient } from './open-sql-client.js';
import type { Migration } from './sql-client.js';

export interface MigrateSpec {
  /** Service name for logs, e.g. `user-service`. */
  service: string;
  /** The service's own config reader, so the command uses exactly the database the service would. */
  loadConfig(env: Env): { storage: StorageConfig; logLevel: string };
  migrations: readonly Migration[];
}

/**
 * The body of a service's migrate.ts: apply pending migrations and exit, for
 * teams that migrate before deploying (a Job, a CI step). Exit code 0 when the
 * schema is up to date, 1 with one log line saying why when it is not. One
 * attempt: the Job's own retry policy decides whether to try again.
 */
export function migrateMain(spec: MigrateSpec): void {
  const config = loadConfigOrExit(`${spec.service} migrate`, spec.loadConfig);
  const log = createLogger({ service: spec.service, level: config.logLevel });
  void (async () => {
    const db = await openSqlClient(config.storage, { log });
    try {
      const applied = await db.migrate(spec.migrations);
      log.info({ applied, dialect: db.dialect }, 'schema up to date');
    } catch (error) {
      log.fatal({ err: summarizeError(error) }, 'migration failed');
      process.exitCode = 1;
    } finally {
      await db.close();
    }
  })();
}
