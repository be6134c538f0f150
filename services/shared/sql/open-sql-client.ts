import type { Logger } from '../process/logger.js';
import type { StorageConfig } from '../process/service-config.js';
import type { SqlClient } from './sql-client.js';
import { createSqliteClient } from './sqlite-client.js';

/**
 * The SqlClient a service's storage configuration asks for. Nothing connects
 * yet: PostgreSQL connections open on first use, SQLite opens its file.
 */
export async function openSqlClient(
  storage: StorageConfig,
  deps: { log?: Logger } = {},
): Promise<SqlClient> {
  switch (storage.kind) {
    case 'sqlite':
      return createSqliteClient(storage.path);
    case 'postgres': {
      // Loaded only when used, so SQLite deployments never load pg.
      const { createPostgresClient } = await import('./postgres-client.js');
      return createPostgresClient({ ...storage, ...deps });
    }
  }
}
