import type { Migration } from '../shared/sql/sql-client.js';

/**
 * Ids are compared byte by byte on PostgreSQL (COLLATE "C"), as SQLite always
 * does: keyset pagination relies on `id > ?` and `ORDER BY id` agreeing with
 * the order ids are issued in, whatever the database's locale.
 */
const createProducts = (idType: string) => `
  CREATE TABLE products (
    id             ${idType} NOT NULL PRIMARY KEY,
    name           TEXT NOT NULL,
    owner_id       ${idType} NOT NULL,
    price_currency TEXT NOT NULL,
    price_units    BIGINT NOT NULL,
    price_nanos    INTEGER NOT NULL,
    request_id     TEXT,
    create_time    TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT products_request_id_key UNIQUE (request_id)
  );
  CREATE INDEX products_owner_id_id_idx ON products (owner_id, id);`;

/**
 * The owner read model, fed by UserService's events (see docs/events.md):
 * owners' public profiles, and per event stream the position of the last
 * event applied, written in the same transaction as the owners it changed.
 * ProductService's own tables: it never reads UserService's.
 */
const createOwners = (idType: string) => `
  CREATE TABLE owners (
    id       ${idType} NOT NULL PRIMARY KEY,
    username TEXT NOT NULL
  );
  CREATE TABLE event_positions (
    stream   TEXT NOT NULL PRIMARY KEY,
    position BIGINT NOT NULL
  );`;

/** ProductService's schema. Released migrations are never edited: add one instead. */
export const productMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create products',
    sql: { sqlite: createProducts('TEXT'), postgres: createProducts('TEXT COLLATE "C"') },
  },
  {
    version: 2,
    name: 'create owners read model',
    sql: { sqlite: createOwners('TEXT'), postgres: createOwners('TEXT COLLATE "C"') },
  },
];
