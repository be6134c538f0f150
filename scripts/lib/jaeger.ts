// The real, pinned Jaeger (.tools/bin/jaeger, `scripts/install-tools.sh jaeger`)
// as a child process, and reading traces from its HTTP query API: for the
// tracing tests, the benchmark, `npm start -- --jaeger` and `npm run trace`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnv, type Child, repo, spawnChild } from './child-process.js';
import { freePort } from './free-port.js';

/** A span as Jaeger's HTTP query API (/api/traces) returns it. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags: { key: string; type: string; value: unknown }[];
  processID: string;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

/** The real, pinned Jaeger, all-in-one with memory storage. */
export interface Jaeger {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpEndpoint: string;
  queryUrl: string;
  /** The trace, or undefined while Jaeger has no span of it. */
  trace(traceId: string): Promise<JaegerTrace | undefined>;
  /** Polls until `ready(trace)` holds; fails with the last trace seen. */
  waitForTrace(
    traceId: string,
    ready: (trace: JaegerTrace) => boolean,
    timeoutMs?: number,
  ): Promise<JaegerTrace>;
  /** Recent traces with a span of `service`. */
  traces(service: string, limit?: number): Promise<JaegerTrace[]>;
  stop(): Promise<void>;
  readonly child: Child;
}

export const jaegerBinary = join(repo, '.tools/bin/jaeger');

export interface JaegerOptions {
  /** Ports (default: free ones) and interface (default 127.0.0.1). */
  ports?: { otlp: number; query: number; queryGrpc: number };
  host?: string;
  /** See SpawnOptions. */
  detached?: boolean;
  onLine?: (line: string) => void;
}

/** A Jaeger query API at `queryUrl`, started by us or not (`npm run trace` reads any). */
export function jaegerQuery(queryUrl: string) {
  async function get<T>(path: string): Promise<T | undefined> {
    const response = await fetch(`${queryUrl}${path}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`jaeger ${path}: HTTP ${response.status}`);
    return ((await response.json()) as { data: T }).data;
  }
  return {
    get,
    async trace(traceId: string): Promise<JaegerTrace | undefined> {
      return (await get<JaegerTrace[]>(`/api/traces/${traceId}`))?.[0];
    },
    async traces(service: string, limit = 20): Promise<JaegerTrace[]> {
      const query = new URLSearchParams({ service, limit: String(limit) });
      return (await get<JaegerTrace[]>(`/api/traces?${query}`)) ?? [];
    },
  };
}

export async function startJaeger(options: JaegerOptions = {}): Promise<Jaeger> {
  if (!existsSync(jaegerBinary)) {
    throw new Error(`${jaegerBinary} is missing: build it with scripts/install-tools.sh jaeger`);
  }
  const { otlp, query, queryGrpc } = options.ports ?? {
    otlp: await freePort(),
    query: await freePort(),
    queryGrpc: await freePort(),
  };
  const host = options.host ?? '127.0.0.1';
  const child = spawnChild(
    'jaeger',
    jaegerBinary,
    ['--config', `file:${join(repo, 'tools/jaeger/all-in-one.yaml')}`],
    {
      env: {
        ...baseEnv(),
        JAEGER_OTLP_GRPC_PORT: String(otlp),
        JAEGER_QUERY_PORT: String(query),
        JAEGER_QUERY_GRPC_PORT: String(queryGrpc),
        JAEGER_LISTEN_HOST: host,
      },
      detached: options.detached,
      onLine: options.onLine,
    },
  );
  const queryUrl = `http://${host}:${query}`;
  const api = jaegerQuery(queryUrl);
  const { get } = api;

  // Ready when the query API answers (the receiver starts before it).
  for (const started = Date.now(); ; ) {
    if (!child.running) throw new Error(`jaeger exited:\n${child.tail()}`);
    try {
      await get('/api/services');
      break;
    } catch (error) {
      if (Date.now() - started > 20_000) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const jaeger: Jaeger = {
    otlpEndpoint: `http://${host}:${otlp}`,
    queryUrl,
    child,
    trace: api.trace,
    traces: api.traces,
    async waitForTrace(traceId, ready, timeoutMs = 15_000) {
      let last: JaegerTrace | undefined;
      for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
        last = await jaeger.trace(traceId);
        if (last && ready(last)) return last;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(
        `trace ${traceId} not complete after ${timeoutMs} ms; last seen:\n${last ? describeTrace(last) : '(none)'}`,
      );
    },
    async stop() {
      await child.stop();
    },
  };
  return jaeger;
}

export const serviceOf = (trace: JaegerTrace, span: JaegerSpan) =>
  trace.processes[span.processID]?.serviceName ?? '?';

export const tagOf = (span: JaegerSpan | undefined, key: string) =>
  span?.tags.find((tag) => tag.key === key)?.value;

export const parentOf = (span: JaegerSpan) =>
  span.references.find((ref) => ref.refType === 'CHILD_OF')?.spanID;

/** The span tree, one span a line, for failure messages. */
export function describeTrace(trace: JaegerTrace): string {
  const children = new Map<string | undefined, JaegerSpan[]>();
  const ids = new Set(trace.spans.map((span) => span.spanID));
  for (const span of trace.spans) {
    const parent = parentOf(span);
    const key = parent && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.startTime - b.startTime)) {
      const status = tagOf(span, 'otel.status_code') === 'ERROR' ? ' ERROR' : '';
      lines.push(
        `${'  '.repeat(depth)}${serviceOf(trace, span)}: ${span.operationName}${status} (${span.spanID}${depth === 0 ? `, parent ${parentOf(span) ?? 'none'}` : ''})`,
      );
      walk(span.spanID, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n');
}
