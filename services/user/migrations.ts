import type { Migration } from '../shared/sql/sql-client.js';

/**
 * Ids are compared byte by byte on PostgreSQL (COLLATE "C"), as SQLite always
 * does: keyset pagination relies on `id > ?` and `ORDER BY id` agreeing with
 * the order ids are issued in, whatever the database's locale.
 */
const createUsers = (idType: string) => `
  CREATE TABLE users (
    id          ${idType} NOT NULL PRIMARY KEY,
    username    TEXT NOT NULL,
    email       TEXT NOT NULL,
    request_id  TEXT,
    create_time TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_request_id_key UNIQUE (request_id)
  )`;

/** UserService's schema. Released migrations are never edited: add one instead. */
export const userMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create users',
    sql: { sqlite: createUsers('TEXT'), postgres: createUsers('TEXT COLLATE "C"') },
  },
];
