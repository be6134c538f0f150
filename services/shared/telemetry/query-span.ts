import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { summarizeSql } from './sql-summary.js';
import { errorType, tracer } from './tracer.js';

/**
 * Runs one synchronous query inside a client span named by its summary
 * (`SELECT users`), with the database semantic-convention attributes and
 * never the statement's text or parameters. Only inside a recorded span:
 * startup migrations and untraced calls make no spans and cost nothing.
 */
export function inQuerySpan<T>(system: string, sql: string, run: () => T): T {
  if (!trace.getActiveSpan()?.isRecording()) return run();
  const { summary, operation, table } = summarizeSql(sql);
  const span = tracer().startSpan(summary, {
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system.name': system,
      'db.query.summary': summary,
      'db.operation.name': operation,
      ...(table ? { 'db.collection.name': table } : {}),
    },
  });
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
