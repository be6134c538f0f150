// Issue 14, bug 2: abusive connections against the compiled UserService, on
// loopback, bounded in count and time. Callers hold half-sent requests, or
// open and reset streams as fast as they can; the process stays under its
// pod's memory limit and ordinary calls keep answering promptly.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type ClientHttp2Session, connect, constants } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import {
  type ServiceProcess,
  spawnService,
  userClientOf,
} from '../../scripts/lib/spawn-service.js';
import { UserServiceService } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { newId } from '../../services/shared/api/ids.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { openStream } from '../support/raw-grpc.js';
import { expectStatus } from '../support/rpc.js';

/** The pod's memory limit (k8s/), less headroom for the runtime's own swings. */
const MEMORY_BOUND_MB = 200;
const CONNECTIONS = 100;
const STREAMS_PER_CONNECTION = 100;

const dataDir = mkdtempSync(join(tmpdir(), 'shop-limits-'));
let user: ServiceProcess;
const sessions: ClientHttp2Session[] = [];

// A fresh process per scenario, so each one's memory is its own.
beforeEach(async () => {
  user = await spawnService('user', { env: { DATA_DIR: dataDir } });
});
afterEach(async () => {
  for (const session of sessions.splice(0)) session.destroy();
  await user?.stop('SIGKILL');
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Resident memory of the service process, in MB. */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(line?.[1] ?? Number.NaN) / 1024;
}

/** How long an ordinary GetUser takes to answer NOT_FOUND, in ms. */
async function ordinaryCallMs(): Promise<number> {
  const client = userClientOf(user);
  const started = performance.now();
  await expectStatus(
    unaryCall(client, 'getUser', { id: newId() }, { deadline: Date.now() + 5000 }),
    status.NOT_FOUND,
  );
  client.close();
  return performance.now() - started;
}

const open = () => {
  const session = connect(`http://${user.address}`);
  session.on('error', () => {});
  sessions.push(session);
  return session;
};

const request = (session: ClientHttp2Session) =>
  openStream(session, UserServiceService.getUser.path);

it('holds half-sent requests within the memory bound, and keeps answering', async () => {
  const before = rssMb(user.pid);
  // Each stream announces a 1 MiB message and sends 16 KiB of it, then waits.
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(1024 * 1024, 1);
  const partial = Buffer.concat([prefix, Buffer.alloc(16 * 1024, 0x61)]);
  let refused = 0;
  for (let c = 0; c < CONNECTIONS; c++) {
    const session = open();
    for (let s = 0; s < STREAMS_PER_CONNECTION; s++) {
      const stream = request(session);
      stream.on('response', (headers) => {
        if (headers['grpc-status'] !== undefined) refused++;
      });
      stream.write(partial);
    }
  }
  await sleep(3000);
  const peak = rssMb(user.pid);
  const latency = await ordinaryCallMs();
  console.info(
    `half-sent: ${CONNECTIONS}x${STREAMS_PER_CONNECTION} streams, RSS ${before.toFixed(0)} -> ${peak.toFixed(0)} MB, ` +
      `${refused} answered at once by the server, ordinary call ${latency.toFixed(0)} ms`,
  );
  for (const session of sessions.splice(0)) session.destroy();
  expect(peak).toBeLessThan(MEMORY_BOUND_MB);
  expect(latency).toBeLessThan(1000);
}, 60_000);

it('survives open-then-reset streams within the memory bound, and keeps answering', async () => {
  const before = rssMb(user.pid);
  let peak = before;
  const session = open();
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 1000; i++) request(session).close(constants.NGHTTP2_CANCEL);
    await sleep(20);
    peak = Math.max(peak, rssMb(user.pid));
    if (session.destroyed) break;
  }
  const latency = await ordinaryCallMs();
  console.info(
    `open-then-reset: 20,000 streams, RSS ${before.toFixed(0)} -> ${peak.toFixed(0)} MB, ordinary call ${latency.toFixed(0)} ms`,
  );
  expect(peak).toBeLessThan(MEMORY_BOUND_MB);
  expect(latency).toBeLessThan(1000);
}, 60_000);
