// PostgreSQL storage under the preload: @opentelemetry/instrumentation-pg must
// patch `pg` as the ES-module services import it, and its spans must carry a
// statement summary only, never the statement text or its values.
import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Jaeger, serviceOf, startJaeger, tagOf } from '../../scripts/lib/jaeger.js';
import { type PostgresServer, startPostgres } from '../../scripts/lib/postgres-server.js';
import { type Services, spawnServices } from '../../scripts/lib/spawn-services.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { everyReadAsksUserService } from '../support/every-read-asks-user-service.js';
import { callerContext } from './support/caller-context.js';

let postgres: PostgresServer;
let jaeger: Jaeger;
let services: Services;

beforeAll(async () => {
  postgres = await startPostgres();
  const [users, products] = [
    await postgres.createDatabase('trace_users'),
    await postgres.createDatabase('trace_products'),
  ];
  jaeger = await startJaeger();
  services = await spawnServices({
    env: {
      ...everyReadAsksUserService,
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
    user: { DATABASE_URL: users.url },
    product: { DATABASE_URL: products.url },
  });
}, 120_000);

afterAll(async () => {
  await services?.stop();
  await jaeger?.stop();
  await postgres?.close();
});

it('traces each query as its summary, under the call that made it', async () => {
  const email = `pg.${Date.now()}@example.com`;
  const caller = callerContext();
  const metadata = new Metadata();
  metadata.set('traceparent', caller.traceparent);
  await unaryCall(
    services.userClient,
    'createUser',
    { username: `pg_${Date.now()}`, email, requestId: '' },
    {},
    metadata,
  );

  const isInsert = (name: string) => name === 'INSERT users';
  const trace = await jaeger.waitForTrace(caller.traceId, (t) =>
    t.spans.some((s) => isInsert(s.operationName)),
  );
  const server = trace.spans.find((s) => s.operationName.endsWith('UserService/CreateUser'));
  const insert = trace.spans.find((s) => isInsert(s.operationName));
  expect(insert && serviceOf(trace, insert)).toBe('user-service');
  expect(insert?.references[0]?.spanID).toBe(server?.spanID);
  expect(tagOf(insert, 'db.system.name')).toBe('postgresql');
  expect(tagOf(insert, 'db.query.summary')).toBe('INSERT users');
  expect(tagOf(insert, 'db.query.text')).toBe('INSERT users');
  expect(JSON.stringify(trace)).not.toContain(email);
  // Pool connections are not spans of their own.
  expect(trace.spans.map((s) => s.operationName)).not.toContain('pg-pool.connect');
});
