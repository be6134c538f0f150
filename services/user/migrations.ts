import type { Migration } from '../shared/sql/sql-client.js';

/** UserService's schema. Released migrations are never edited: add one instead. */
export const userMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create users',
    sql: `
      CREATE TABLE users (
        id          TEXT NOT NULL PRIMARY KEY,
        username    TEXT NOT NULL,
        email       TEXT NOT NULL,
        request_id  TEXT,
        create_time TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT users_username_key UNIQUE (username),
        CONSTRAINT users_email_key UNIQUE (email),
        CONSTRAINT users_request_id_key UNIQUE (request_id)
      )`,
  },
];
