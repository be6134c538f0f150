// The bare baseline as its own process, so it can be pinned and measured
// like the services: `node baseline-main.js <fixtures.json>` with GRPC_PORT
// set. Started by startBaseline (compiled first: run through tsx, it would
// carry tsx's loader in its memory and start-up, which the services do not).
import { ServerCredentials } from '@grpc/grpc-js';
import { readBaselineFixtures } from './baseline-fixtures.js';
import { createBaselineServer } from './baseline-server.js';

const [fixturesPath] = process.argv.slice(2);
if (!fixturesPath) throw new Error('usage: baseline-main.js <fixtures.json>');
const server = createBaselineServer(readBaselineFixtures(fixturesPath));
server.bindAsync(
  `127.0.0.1:${process.env.GRPC_PORT ?? '0'}`,
  ServerCredentials.createInsecure(),
  (error, port) => {
    if (error) throw error;
    console.log(JSON.stringify({ level: 'info', msg: 'serving', port }));
  },
);
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
