// Issue 14, the hostile-input suite: raw HTTP/2 (node:http2) against the
// compiled services with the telemetry preload, as in a pod. For every RPC of
// both services (from the generated definitions and the descriptors, not a
// hand list) it sends random and truncated bodies, wrong wire types,
// oversized and repeated fields, bad grpc-timeout values, bad compression,
// huge metadata and a bad content-type, path or method, and counts the
// answers by status per category. It fails on an INTERNAL from our code (the
// INTERNALs grpc-js itself sends before any handler runs are accepted only
// where docs/hardening.md says, and must show in the service's log), an
// UNKNOWN, a call unanswered after 5 s, a process exit, memory past the
// bound, or an ordinary call slower than 1 s during or after the fuzz.
//
// HOSTILE_REQUESTS=<n> sets the requests per service (default 2400),
// HOSTILE_SEED=<n> replays a run (the seed is printed); HOSTILE_CATEGORIES and
// HOSTILE_VARIANTS narrow it to what a finding needs.
import type { ClientHttp2Session } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POD_MEMORY_LIMIT_BYTES } from '../../scripts/lib/pod-memory-limit.js';
import type { ServiceProcess } from '../../scripts/lib/spawn-service.js';
import { type Services, spawnServices } from '../../scripts/lib/spawn-services.js';
import { ProductServiceService } from '../../services/gen/shop/product/v1/product_service.pb.js';
import { UserServiceService } from '../../services/gen/shop/user/v1/user_service.pb.js';
import { protoRegistry } from '../../services/shared/grpc/descriptors.js';
import { preHandlerFailureReason } from '../../services/shared/grpc/pre-handler-failures.js';
import { defaultServerLimits } from '../../services/shared/grpc/server-limits.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import {
  type Category,
  categories,
  type HostileMethod,
  type HostileRequest,
  hostileRequest,
} from '../support/hostile-requests.js';
import { ordinaryCallsDuring } from '../support/ordinary-calls.js';
import { MEMORY_BOUND_MB, rssMb, watchRss } from '../support/process-memory.js';
import { answerLabel, openRawSession, type RawAnswer, rawUnary } from '../support/raw-grpc.js';
import { seededRandom, seedFromEnv } from '../support/seeded-random.js';

const REQUESTS = Number(process.env.HOSTILE_REQUESTS ?? 2400);
/** HOSTILE_CATEGORIES=a,b: only these (to chase one finding); default all. */
const CATEGORIES = (process.env.HOSTILE_CATEGORIES?.split(',') ?? categories) as Category[];
for (const category of CATEGORIES) {
  if (!categories.includes(category)) {
    throw new Error(`HOSTILE_CATEGORIES: no category ${category} (${categories.join(', ')})`);
  }
}
/** HOSTILE_VARIANTS=<regexp>: only requests whose variant matches (to narrow one finding further). */
const VARIANTS = new RegExp(process.env.HOSTILE_VARIANTS ?? '');
/** HOSTILE_VERBOSE=1: also print the counts per variant. */
const VERBOSE = process.env.HOSTILE_VERBOSE === '1';
const SEED = seedFromEnv('HOSTILE_SEED');
/** A call with no answer after this long is a hang. */
const HANG_MS = 5000;
/** What an ordinary call may take while the fuzz runs and after it. */
const ORDINARY_CALL_MS = 1000;
const CONCURRENCY = 12;
const SESSIONS = 4;

/**
 * The INTERNALs grpc-js sends itself, before any handler runs, that the
 * spec or the reference implementations agree with (docs/hardening.md,
 * "Failures before any handler"): the reason pre-handler-failures.ts gives
 * them, and the only category that may produce each.
 */
const acceptedInternals: Partial<Record<Category, string>> = {
  'bad-grpc-timeout': 'INVALID_GRPC_TIMEOUT',
  'bad-compression': 'UNDECOMPRESSIBLE_MESSAGE',
};

/** Every RPC of a ts-proto service definition, with its request descriptor. */
function methodsOf(definition: Record<string, { path: string }>): HostileMethod[] {
  const registry = protoRegistry();
  const paths = Object.values(definition).map((m) => m.path);
  const serviceName = paths[0]?.split('/')[1] ?? '';
  const service = registry.getService(serviceName);
  if (!service) throw new Error(`no descriptor for ${serviceName}`);
  // The generated definition and the descriptors list the same RPCs.
  expect(service.methods.map((m) => `/${service.typeName}/${m.name}`).sort()).toEqual(
    [...paths].sort(),
  );
  return service.methods.map((m) => ({ path: `/${service.typeName}/${m.name}`, input: m.input }));
}

const userMethods = methodsOf(UserServiceService);
const productMethods = methodsOf(ProductServiceService);

let services: Services;
const knownStrings: string[] = [];

beforeAll(async () => {
  console.log(
    `hostile-http2: seed ${SEED} (HOSTILE_SEED=${SEED} replays it), ${REQUESTS} requests per service`,
  );
  services = await spawnServices({ memoryLimitBytes: POD_MEMORY_LIMIT_BYTES });
  const { user } = await unaryCall(services.userClient, 'createUser', {
    username: 'hostile_owner',
    email: 'hostile.owner@example.com',
    requestId: '',
  });
  const { product } = await unaryCall(services.productClient, 'createProduct', {
    name: 'Lantern',
    ownerId: user?.id ?? '',
    price: { currencyCode: 'EUR', units: 12n, nanos: 0 },
    requestId: '',
  });
  knownStrings.push(user?.id ?? '', product?.id ?? '', 'hostile_owner', 'Lantern', 'EUR');
});
afterAll(async () => {
  await services?.stop();
});

/** 'running', or how the process ended: a signal (SIGABRT: a failed assertion in Node, its stack in the tail; SIGKILL with an OOM kill: the memory limit). */
function endedAs(server: ServiceProcess): string {
  if (server.running) return 'running';
  return (
    `exited (code ${server.process.exitCode}, signal ${server.process.signalCode}, ` +
    `OOM kills ${server.memoryCgroup?.oomKills()}):\n${server.tail(30)}`
  );
}

interface Outcome {
  request: HostileRequest;
  answer: RawAnswer;
  label: string;
  ms: number;
}

/** Sends every request, CONCURRENCY at a time over SESSIONS connections (or one of its own). */
async function fire(target: ServiceProcess, requests: HostileRequest[]): Promise<Outcome[]> {
  const pool: ClientHttp2Session[] = [];
  const sessionFor = (slot: number) => {
    const current = pool[slot];
    if (current && !current.closed && !current.destroyed) return current;
    const fresh = openRawSession(target.address);
    pool[slot] = fresh;
    return fresh;
  };
  const send = async (request: HostileRequest, slot: number) => {
    const own = request.ownSession ? openRawSession(target.address) : undefined;
    try {
      return await rawUnary(own ?? sessionFor(slot), request.path, request.body, {
        headers: request.headers,
        timeoutMs: HANG_MS,
      });
    } finally {
      own?.destroy();
    }
  };
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async (w: number) => {
    for (let i = next++; i < requests.length; i = next++) {
      const request = requests[i] as HostileRequest;
      const started = performance.now();
      let answer = await send(request, w % SESSIONS);
      // A shared connection the server closed over another request: once more on a fresh one.
      if (answerLabel(answer) === 'REFUSED' && !request.ownSession) {
        answer = await send(request, w % SESSIONS);
      }
      outcomes.push({
        request,
        answer,
        label: answerLabel(answer),
        ms: performance.now() - started,
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  for (const session of pool) session.destroy();
  return outcomes;
}

/** What is wrong with an answer, or undefined when it is acceptable. */
function problemOf({ request, answer, label }: Outcome): string | undefined {
  if (label === 'TIMEOUT') return `no answer in ${HANG_MS} ms`;
  if (label === 'REFUSED') return `not sent (${answer.ended}): the suite's request is invalid`;
  if (answer.grpcStatus === status.UNKNOWN) return 'UNKNOWN';
  if (answer.grpcStatus === status.INTERNAL) {
    const reason = preHandlerFailureReason({ code: status.INTERNAL, details: answer.grpcMessage });
    if (acceptedInternals[request.category] !== reason) return `INTERNAL (${reason})`;
  }
  return undefined;
}

/** Counts by category and label, as a printable table. */
function table(service: string, outcomes: Outcome[]): string {
  const labels = [...new Set(outcomes.map((o) => o.label))].sort();
  const rows = CATEGORIES.map((category) => {
    const mine = outcomes.filter((o) => o.request.category === category);
    const slowest = Math.max(0, ...mine.map((o) => o.ms));
    return [
      category,
      ...labels.map((label) => String(mine.filter((o) => o.label === label).length || '')),
      String(mine.length),
      `${slowest.toFixed(0)} ms`,
    ];
  });
  const header = ['category', ...labels, 'total', 'slowest'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  return [
    `${service}, seed ${SEED}:`,
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

/** Counts by category, variant and label, one line each. */
function variants(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const { request, label } of outcomes) {
    const key = `${request.category} / ${request.variant.replace(/\d+/g, 'N')} -> ${label}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort()
    .map(([key, n]) => `${String(n).padStart(5)}  ${key}`)
    .join('\n');
}

describe.each([
  { name: 'UserService', methods: () => userMethods, target: () => services.user, seedOffset: 0 },
  {
    name: 'ProductService',
    methods: () => productMethods,
    target: () => services.product,
    seedOffset: 1,
  },
])('$name', ({ name, methods, target, seedOffset }) => {
  it('answers hostile HTTP/2 without INTERNAL from our code, hangs, exits or excess memory', async () => {
    const service = target();
    const rng = seededRandom(SEED + seedOffset);
    const ctx = {
      rng,
      methods: methods(),
      foreignPaths: (service === services.user ? productMethods : userMethods).map((m) => m.path),
      knownStrings,
      maxReceiveMessageBytes: defaultServerLimits.maxReceiveMessageBytes,
    };
    // Round robin over the categories, a random RPC each time.
    const requests = Array.from({ length: REQUESTS }, (_, i) =>
      hostileRequest(CATEGORIES[i % CATEGORIES.length] as Category, rng.pick(ctx.methods), ctx),
    ).filter((request) => VARIANTS.test(request.variant));
    const logsBefore = service.logs.length;
    const rssBefore = rssMb(service.pid);
    const memory = [watchRss(services.user.pid), watchRss(services.product.pid)];
    const ordinary = () =>
      service === services.user
        ? unaryCall(
            services.userClient,
            'getUser',
            { id: knownStrings[0] ?? '' },
            {
              deadline: Date.now() + 5000,
            },
          )
        : unaryCall(
            services.productClient,
            'getProduct',
            { id: knownStrings[1] ?? '' },
            {
              deadline: Date.now() + 5000,
            },
          );

    const started = performance.now();
    let seconds = 0;
    const fuzz = fire(service, requests).then((outcomes) => {
      seconds = (performance.now() - started) / 1000;
      return outcomes;
    });
    const { slowestDuring, after } = await ordinaryCallsDuring(ordinary, fuzz).catch(
      async (error: Error) => {
        // A refused connection is most likely a process that died: say how, once its exit is seen.
        await sleep(500);
        throw new Error(
          `${error.message}\nuser-service: ${endedAs(services.user)}\nproduct-service: ${endedAs(services.product)}`,
        );
      },
    );
    const outcomes = await fuzz;
    const [userPeak, productPeak] = memory.map((m) => {
      m.stop();
      return m.peak();
    }) as [number, number];

    console.log(
      `${table(name, outcomes)}\n${outcomes.length} requests in ${seconds.toFixed(1)} s; ` +
        `RSS of ${service.service} ${rssBefore.toFixed(0)} MB before; peak RSS user-service ` +
        `${userPeak.toFixed(0)} MB, product-service ${productPeak.toFixed(0)} MB; ` +
        `ordinary call slowest ${slowestDuring.toFixed(0)} ms during, ${after.toFixed(0)} ms after`,
    );

    if (VERBOSE) console.log(variants(outcomes));

    const problems = outcomes.flatMap((o) => {
      const problem = problemOf(o);
      return problem
        ? [
            `${problem}: ${o.request.category} / ${o.request.variant} ${o.request.path} ` +
              `-> ${o.label} ${JSON.stringify(o.answer.grpcMessage)} (seed ${SEED})`,
          ]
        : [];
    });
    for (const server of [services.user, services.product]) {
      expect(endedAs(server), server.service).toBe('running');
    }
    expect(problems.slice(0, 20), `${problems.length} problems`).toEqual([]);
    expect(userPeak).toBeLessThan(MEMORY_BOUND_MB);
    expect(productPeak).toBeLessThan(MEMORY_BOUND_MB);
    expect(services.user.memoryCgroup?.oomKills()).toBe(0);
    expect(services.product.memoryCgroup?.oomKills()).toBe(0);
    expect(slowestDuring).toBeLessThan(ORDINARY_CALL_MS);
    expect(after).toBeLessThan(ORDINARY_CALL_MS);

    const logs = service.logs.slice(logsBefore);
    // Our mapper's INTERNAL always logs this line, with the cause.
    expect(logs.filter((l) => l.msg === 'unexpected error')).toEqual([]);
    // Every INTERNAL grpc-js sent itself reached the service's log under its reason.
    const internalReasons = new Set(
      outcomes
        .filter((o) => o.answer.grpcStatus === status.INTERNAL)
        .map((o) =>
          preHandlerFailureReason({ code: status.INTERNAL, details: o.answer.grpcMessage }),
        ),
    );
    const logged = new Set(
      logs.filter((l) => l.msg === 'call failed before reaching a handler').map((l) => l.reason),
    );
    for (const reason of internalReasons) expect(logged, reason).toContain(reason);
  }, 120_000);
});
