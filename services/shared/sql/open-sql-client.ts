import type { StorageConfig } from '../service-config.js';
import type { SqlClient } from './sql-client.js';
import { createSqliteClient } from './sqlite-client.js';

/** The SqlClient a service's storage configuration asks for. */
export async function openSqlClient(storage: StorageConfig): Promise<SqlClient> {
  switch (storage.kind) {
    case 'sqlite':
      return createSqliteClient(storage.path);
    case 'postgres':
      throw new Error('PostgreSQL storage is not available yet');
  }
}
