// End to end: `npm run trace` as a user runs it, as a process, against the
// real pinned Jaeger fed by the compiled services (telemetry preload, OTLP
// export), after one ListProducts call that resolves its owner.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Jaeger, type JaegerTrace, startJaeger } from '../../scripts/lib/jaeger.js';
import { type Services, spawnServices } from '../../scripts/lib/spawn-services.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { everyReadAsksUserService } from '../support/every-read-asks-user-service.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const listProducts = 'grpc.shop.product.v1.ProductService/ListProducts';

let jaeger: Jaeger;
let services: Services;
/** The ListProducts trace as Jaeger holds it once all six spans are in. */
let expected: JaegerTrace;
/** The trace_id on product-service's "rpc" access line for ListProducts. */
let loggedTraceId = '';

beforeAll(async () => {
  jaeger = await startJaeger();
  services = await spawnServices({
    env: {
      ...everyReadAsksUserService,
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
  const { userClient: users, productClient: products } = services;
  const deadline = () => ({ deadline: Date.now() + 5000 });
  const { user } = await unaryCall(
    users,
    'createUser',
    { username: 'ada', email: 'ada@example.com', requestId: '' },
    deadline(),
  );
  await unaryCall(
    products,
    'createProduct',
    {
      name: 'Desk lamp',
      ownerId: user?.id ?? '',
      price: { currencyCode: 'EUR', units: 25n, nanos: 0 },
      requestId: '',
    },
    deadline(),
  );
  const { products: listed } = await unaryCall(
    products,
    'listProducts',
    { pageSize: 0, pageToken: '', ownerId: '' },
    deadline(),
  );
  expect(listed).toHaveLength(1);

  const accessLine = await services.product.waitForLog(
    (line) => line.msg === 'rpc' && String(line.method).endsWith('/ListProducts'),
  );
  loggedTraceId = String(accessLine.trace_id);
  expect(loggedTraceId).toMatch(/^[0-9a-f]{32}$/);
  // The command reads what Jaeger has: wait until the trace is whole, UserService's spans too.
  expected = await jaeger.waitForTrace(loggedTraceId, (trace) => trace.spans.length >= 6);
});

afterAll(async () => {
  await services?.stop();
  await jaeger?.stop();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function trace(args: readonly string[], jaegerUrl = jaeger.queryUrl): Promise<Run> {
  return new Promise((done) => {
    execFile(
      'npm',
      ['run', '--silent', 'trace', '--', ...args],
      // stdout is a pipe, not a terminal: the command must print no colour.
      { cwd: repo, env: { ...process.env, JAEGER_QUERY_URL: jaegerUrl }, timeout: 20_000 },
      (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** service, tree glyphs + operation, kind: what the waterfall says about nesting. */
function skeleton(stdout: string): string[] {
  const lines = stdout.trimEnd().split('\n');
  const header = lines.findIndex((line) => line.startsWith('SERVICE'));
  const head = lines[header] ?? '';
  const [span, kind] = ['SPAN', 'KIND'].map((name) => head.indexOf(name));
  return lines
    .slice(header + 1)
    .filter((line) => line.trim() !== '')
    .map((line) =>
      [
        line.slice(0, span).trim(),
        line.slice(span, kind).trimEnd(),
        // START is right-aligned: a wide offset begins left of its header.
        line.slice(kind).split(' ')[0],
      ].join(' | '),
    );
}

const waterfall = [
  `product-service | ${listProducts} | server`,
  'product-service | ├─ SELECT products | client',
  'product-service | └─ resolve owners | internal',
  'product-service |    └─ grpc.shop.user.v1.UserService/BatchGetUsers | client',
  'user-service |       └─ grpc.shop.user.v1.UserService/BatchGetUsers | server',
  'user-service |          └─ SELECT users | client',
];

describe('npm run trace', () => {
  it('draws the newest trace of a service, both services’ server spans nested', async () => {
    const run = await trace(['--last', 'product-service']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('\x1b[');
    expect(run.stdout.split('\n')[0]).toMatch(
      new RegExp(`^trace ${expected.traceID}  6 spans in 2 services, `),
    );
    expect(skeleton(run.stdout)).toEqual(waterfall);

    const lines = run.stdout.split('\n');
    const productServer = lines.find((l) => l.includes(`${listProducts}  `)) ?? '';
    const userServer =
      lines.find((l) => l.startsWith('user-service') && l.includes('BatchGetUsers')) ?? '';
    for (const line of [productServer, userServer]) {
      expect(line).toMatch(/\|[ █]+\| {2}OK /);
      expect(line).toContain('rpc.grpc.status_code=0');
    }
    expect(productServer).toContain('rpc.method=ListProducts');
    expect(userServer).toContain('rpc.method=BatchGetUsers');
    // The call's server span starts the time line (ends need not line up: a
    // child in another process can end "after" its parent in millisecond stamps).
    expect(productServer).toMatch(/ \|█/);
    expect(lines.find((l) => l.includes('SELECT users'))).toContain(
      'db.query.summary="SELECT users"',
    );
  });

  it('draws a trace by the trace_id of its access log line', async () => {
    const run = await trace([loggedTraceId]);
    expect(run.code, run.stderr).toBe(0);
    expect(skeleton(run.stdout)).toEqual(waterfall);
  });

  it('says so, and fails, for a trace Jaeger does not have or a Jaeger that is not there', async () => {
    const missing = await trace(['0123456789abcdef0123456789abcdef']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('trace 0123456789abcdef0123456789abcdef is not in Jaeger');

    const none = await trace(['--last', 'no-such-service']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('has no trace of no-such-service');

    const down = await trace(['--last', 'product-service'], 'http://127.0.0.1:2'); // nothing there
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach Jaeger at http://127.0.0.1:2 (ECONNREFUSED)');

    const usage = await trace([]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: npm run trace -- <trace id>');
  });
});
