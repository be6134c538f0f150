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

/**
 * The transactional outbox: one row per event, written in the transaction of
 * the change it announces. `position` is the stream position consumers
 * resume from: AUTOINCREMENT on SQLite (never reuses a number, even the
 * highest after a delete), an identity column on PostgreSQL. Numbers
 * skipped by rolled-back transactions leave gaps, which consumers ignore;
 * the store makes positions follow commit order (see sql-store.ts).
 */
const createUserEvents = (position: string, idType: string, bytes: string) => `
  CREATE TABLE user_events (
    position    ${position},
    id          ${idType} NOT NULL,
    type        TEXT NOT NULL,
    subject     ${idType} NOT NULL,
    time        TIMESTAMP WITH TIME ZONE NOT NULL,
    traceparent TEXT NOT NULL,
    tracestate  TEXT NOT NULL,
    data        ${bytes} NOT NULL,
    CONSTRAINT user_events_id_key UNIQUE (id)
  )`;

/** UserService's schema. Released migrations are never edited: add one instead. */
export const userMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create users',
    sql: { sqlite: createUsers('TEXT'), postgres: createUsers('TEXT COLLATE "C"') },
  },
  {
    version: 2,
    name: 'create user_events outbox',
    sql: {
      sqlite: createUserEvents('INTEGER PRIMARY KEY AUTOINCREMENT', 'TEXT', 'BLOB'),
      postgres: createUserEvents(
        'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
        'TEXT COLLATE "C"',
        'BYTEA',
      ),
    },
  },
  {
    // How far each relay (the Kafka one: `kafka:<topic>`) has published the
    // outbox: the position of the last event its broker acknowledged.
    version: 3,
    name: 'create event_relays',
    sql: `
  CREATE TABLE event_relays (
    relay    TEXT NOT NULL PRIMARY KEY,
    position BIGINT NOT NULL
  )`,
  },
];
