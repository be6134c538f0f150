import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type SqlSummary, summarizeSql } from './sql-summary.js';
import { errorType, tracer } from './tracer.js';

/**
 * Each statement's span name and attributes, worked out once: the stores
 * run a fixed set of statements, so this stays small, and a traced query
 * costs no regular expressions.
 */
const summaries = new Map<string, { summary: string; attributes: Record<string, string> }>();

function summaryOf(system: string, sql: string) {
  const key = `${system}\n${sql}`;
  let known = summaries.get(key);
  if (!known) {
    const { summary, operation, table }: SqlSummary = summarizeSql(sql);
    known = {
      summary,
      attributes: {
        'db.system.name': system,
        'db.query.summary': summary,
        'db.operation.name': operation,
        ...(table ? { 'db.collection.name': table } : {}),
      },
    };
    // A store that builds statements with values inlined would grow this without bound.
    if (summaries.size < 1000) summaries.set(key, known);
  }
  return known;
}

/**
 * Runs one synchronous query inside a client span named by its summary
 * (`SELECT users`), with the database semantic-convention attributes and
 * never the statement's text or parameters. Only inside a recorded span:
 * startup migrations and untraced calls make no spans and cost nothing.
 */
export function inQuerySpan<T>(system: string, sql: string, run: () => T): T {
  if (!trace.getActiveSpan()?.isRecording()) return run();
  const { summary, attributes } = summaryOf(system, sql);
  const span = tracer().startSpan(summary, { kind: SpanKind.CLIENT, attributes });
  try {
    return run();
  } catch (error) {
    // The driver's code (SQLITE_CONSTRAINT_UNIQUE), also under a translated error.
    const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } };
    const driverCode = code ?? cause?.code;
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorType(error) });
    if (typeof driverCode === 'string') span.setAttribute('db.response.status_code', driverCode);
    throw error;
  } finally {
    span.end();
  }
}
