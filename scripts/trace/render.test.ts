// The waterfall of `npm run trace`, as a unit, on traces captured from the
// real pinned Jaeger (GET /api/traces/<id>, saved as returned) after calls to
// the compiled services: a ListProducts that resolved its owner, a
// CreateProduct for a missing owner, and a ListProducts with UserService down.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDuration, type JaegerTrace, renderTrace } from './render.js';

function fixture(name: string): JaegerTrace {
  const url = new URL(`../../test/tracing/fixtures/${name}.json`, import.meta.url);
  const { data } = JSON.parse(readFileSync(url, 'utf8')) as { data: JaegerTrace[] };
  const [trace] = data;
  if (!trace) throw new Error(`${name}: no trace`);
  return trace;
}

const listProducts = fixture('list-products');
const ownerMissing = fixture('create-product-owner-missing');
const userServiceDown = fixture('list-products-user-service-down');

/** Service, tree and operation, kind, status: each span line without timings and attributes. */
function skeleton(lines: readonly string[]): string[] {
  const header = lines[2] ?? '';
  const at = (name: string) => header.indexOf(name);
  return lines.slice(3).map((line) =>
    [
      line.slice(0, at('SPAN')).trimEnd(),
      line.slice(at('SPAN'), at('KIND')).trimEnd(),
      // START and DURATION are right-aligned: a wide offset begins left of its header.
      line.slice(at('KIND')).split(' ')[0],
      line.slice(at('STATUS'), at('ATTRIBUTES')).trimEnd(),
    ].join(' | '),
  );
}

describe('renderTrace', () => {
  it('draws a ListProducts trace: one line per span, nested, timed, with its attributes', () => {
    expect(renderTrace(listProducts)).toEqual([
      'trace 58778b44b2a3583dfc88ce2c151c34b6  6 spans in 2 services, 5.01ms, started 2026-12-01T21:23:23.296Z',
      '',
      'SERVICE          SPAN                                                  KIND       START  DURATION  TIMELINE                          STATUS  ATTRIBUTES',
      'product-service  grpc.shop.product.v1.ProductService/ListProducts      server       0ms    5.01ms  |██████████████████████████████|  OK      rpc.method=ListProducts rpc.grpc.status_code=0 shop.owner_resolution=complete',
      'product-service  ├─ SELECT products                                    client       0ms     176µs  |█                             |  -       db.system.name=sqlite db.query.summary="SELECT products"',
      'product-service  └─ resolve owners                                     internal     0ms    4.13ms  |█████████████████████████     |  -       shop.owner_resolution=complete shop.owners.requested=1 shop.owners.resolved=1',
      'product-service     └─ grpc.shop.user.v1.UserService/BatchGetUsers     client       0ms    3.97ms  |████████████████████████      |  OK      rpc.method=BatchGetUsers rpc.grpc.status_code=0 peer=127.0.0.1:55051',
      'user-service           └─ grpc.shop.user.v1.UserService/BatchGetUsers  server    2.00ms     960µs  |            ██████            |  OK      rpc.method=BatchGetUsers rpc.grpc.status_code=0',
      'user-service              └─ SELECT users                              client    3.00ms      91µs  |                  █           |  -       db.system.name=sqlite db.query.summary="SELECT users"',
    ]);
  });

  it('orders siblings that start in the same millisecond by which ended first', () => {
    // SELECT products and resolve owners both start at 0ms (OpenTelemetry JS
    // stamps starts with Date.now()); the query ran first.
    const [select, resolve] = ['SELECT products', 'resolve owners'].map((op) =>
      listProducts.spans.find((s) => s.operationName === op),
    );
    expect(select?.startTime).toBe(resolve?.startTime);
    const lines = renderTrace(listProducts);
    expect(lines.findIndex((l) => l.includes('SELECT products'))).toBeLessThan(
      lines.findIndex((l) => l.includes('resolve owners')),
    );
  });

  it('shows each gRPC code, and the error a client recorded, along a failed call', () => {
    const lines = renderTrace(ownerMissing);
    expect(skeleton(lines)).toEqual([
      'product-service | grpc.shop.product.v1.ProductService/CreateProduct | server | FAILED_PRECONDITION',
      'product-service | └─ find owner | internal | -',
      'product-service |    └─ grpc.shop.user.v1.UserService/GetUser | client | NOT_FOUND',
      'user-service |       └─ grpc.shop.user.v1.UserService/GetUser | server | NOT_FOUND',
      'user-service |          └─ SELECT users | client | -',
    ]);
    expect(lines.find((l) => l.includes('find owner'))).toMatch(/shop\.owner\.found=false$/);
    expect(lines.find((l) => l.includes('GetUser') && l.includes('client'))).toContain(
      'rpc.grpc.status_code=5 peer=127.0.0.1:55051 error="5 NOT_FOUND: shop.user.v1.User 01900000-0000-7000-8000-000000000000 not found"',
    );
  });

  it('shows the degraded path: an OK call whose owner step failed, and why', () => {
    const lines = renderTrace(userServiceDown);
    expect(lines[0]).toMatch(/^trace 9a5250cf154f1fc5ca42908ad644ba12 {2}4 spans in 1 service, /);
    expect(skeleton(lines)).toEqual([
      'product-service | grpc.shop.product.v1.ProductService/ListProducts | server | OK',
      'product-service | ├─ SELECT products | client | -',
      'product-service | └─ resolve owners | internal | ERROR',
      'product-service |    └─ grpc.shop.user.v1.UserService/BatchGetUsers | client | UNAVAILABLE',
    ]);
    expect(lines[3]).toContain('shop.owner_resolution=unavailable');
    expect(lines.find((l) => l.includes('resolve owners'))).toContain(
      'error="user service failed (UNAVAILABLE): products returned without owners"',
    );
  });

  it('colours only when asked, and colour changes nothing else', () => {
    for (const trace of [listProducts, ownerMissing, userServiceDown]) {
      const plain = renderTrace(trace);
      const coloured = renderTrace(trace, { color: true });
      expect(plain.join('\n')).not.toContain('\x1b[');
      expect(coloured.join('\n')).toContain('\x1b[');
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes
      expect(coloured.map((line) => line.replace(/\x1b\[[0-9;]*m/g, ''))).toEqual(plain);
    }
    const errorLine = renderTrace(ownerMissing, { color: true }).find((l) =>
      l.includes('NOT_FOUND'),
    );
    expect(errorLine).toContain('\x1b[31mNOT_FOUND');
  });

  it('draws spans whose parent is not in the trace as roots, and says so', () => {
    // As when the caller's span (a sidecar's, grpcurl's traceparent) was never exported.
    const root = listProducts.spans.find((s) => s.references.length === 0);
    const orphaned = { ...listProducts, spans: listProducts.spans.filter((s) => s !== root) };
    const lines = renderTrace(orphaned);
    expect(skeleton(lines).slice(0, 2)).toEqual([
      'product-service | SELECT products | client | -',
      'product-service | resolve owners | internal | -',
    ]);
    expect(lines[3]).toMatch(new RegExp(`parent=${root?.spanID} \\(not in this trace\\)$`));
    expect(lines).toHaveLength(3 + 5);
  });

  it('scales the bar to the trace and sizes it on request', () => {
    const lines = renderTrace(listProducts, { barWidth: 10 });
    expect(lines[3]).toContain('|██████████|');
    expect(lines.find((l) => l.includes('SELECT users'))).toContain('|      █   |');
  });

  it('keeps Jaeger warnings, except its note that it left clock skew alone', () => {
    expect(listProducts.spans.some((s) => s.warnings?.length)).toBe(true);
    expect(renderTrace(listProducts).join('\n')).not.toContain('warning');
    const warned = {
      ...listProducts,
      warnings: ['invalid parent span IDs=abc; skipping clock skew adjustment'],
    };
    expect(renderTrace(warned).slice(-2)).toEqual([
      '',
      'warning: invalid parent span IDs=abc; skipping clock skew adjustment',
    ]);
  });

  it('handles a trace of one instant span and one with no spans', () => {
    const [first] = listProducts.spans;
    if (!first) throw new Error('empty fixture');
    const instant = { ...listProducts, spans: [{ ...first, references: [], duration: 0 }] };
    const lines = renderTrace(instant, { barWidth: 4 });
    expect(lines[0]).toContain('1 span in 1 service, 0ms');
    expect(lines[3]).toContain('|████|');
    expect(renderTrace({ ...listProducts, spans: [] })).toEqual([
      'trace 58778b44b2a3583dfc88ce2c151c34b6: no spans',
    ]);
  });
});

describe('formatDuration', () => {
  it('picks the unit a reader expects', () => {
    expect([0, 91, 999, 1000, 5012, 999_999, 1_000_000, 61_234_567].map(formatDuration)).toEqual([
      '0ms',
      '91µs',
      '999µs',
      '1.00ms',
      '5.01ms',
      '1000.00ms',
      '1.000s',
      '61.235s',
    ]);
  });
});
