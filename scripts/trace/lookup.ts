// Finds the trace `npm run trace` draws, through Jaeger's HTTP query API (the
// one its UI uses, on :16686), and turns every way that can fail into one
// sentence for the user. Both endpoints answer `{ data, errors, ... }`:
//   GET /api/traces/<id>                  data: [trace]; HTTP 404 when Jaeger has none
//   GET /api/traces?service=S&limit=N     data: the N most recently received matching traces, or []
//
// "Most recently received" is not "newest": Jaeger's memory store files the
// traces of one export batch in no particular order, so a call made just after
// another can come back second. `--last` therefore asks for a few and takes the
// one that started last.
import { type JaegerTrace, jaegerQuery } from '../lib/jaeger.js';

/** A failure worth one line to the user (Jaeger down, no such trace, not Jaeger). */
export class TraceLookupError extends Error {}

/** How many of the most recently received traces `--last` compares. */
const RECENT = 20;

export type TraceQuery = { traceId: string } | { service: string; operation?: string };

export async function lookupTrace(baseUrl: string, query: TraceQuery): Promise<JaegerTrace> {
  const api = jaegerQuery(baseUrl.replace(/\/+$/, ''));
  let trace: JaegerTrace | undefined;
  try {
    if ('traceId' in query) {
      trace = await api.trace(encodeURIComponent(query.traceId));
    } else {
      const search = new URLSearchParams({ service: query.service, limit: String(RECENT) });
      if (query.operation) search.set('operation', query.operation);
      trace = latest((await api.get<JaegerTrace[]>(`/api/traces?${search}`)) ?? []);
    }
  } catch (error) {
    // fetch() fails with a TypeError whose cause says why (ECONNREFUSED, a bad URL or port).
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new TraceLookupError(
      error instanceof TypeError
        ? `cannot reach Jaeger at ${baseUrl} (${cause?.code ?? cause?.message ?? error.message}); start it with \`npm start -- --jaeger\` or pass --jaeger-url`
        : `Jaeger at ${baseUrl} did not answer as its query API does: ${(error as Error).message}`,
    );
  }
  if (trace) return trace;
  throw new TraceLookupError(
    'traceId' in query
      ? `trace ${query.traceId} is not in Jaeger at ${baseUrl} (spans arrive about a second after a call; Jaeger's memory storage forgets them when it restarts)`
      : `Jaeger at ${baseUrl} has no trace of ${query.service}${query.operation ? ` with ${query.operation}` : ''} (\`curl ${baseUrl}/api/services\` lists the services it has spans of)`,
  );
}

/** The trace whose first span started last. */
function latest(traces: readonly JaegerTrace[]): JaegerTrace | undefined {
  const start = (trace: JaegerTrace) => Math.min(...trace.spans.map((span) => span.startTime));
  return traces.reduce<JaegerTrace | undefined>(
    (best, trace) => (best === undefined || start(trace) > start(best) ? trace : best),
    undefined,
  );
}
