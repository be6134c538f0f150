import type { Instrumentation } from '@opentelemetry/instrumentation';
import { summarizeSql } from './sql-summary.js';

/**
 * Client spans for pg queries, inside a traced call only, named by the
 * statement's summary (`SELECT users`) and never carrying its text or
 * values. Loaded on demand: only services on PostgreSQL need it.
 */
export async function createPgInstrumentation(): Promise<Instrumentation> {
  const { PgInstrumentation } = await import('@opentelemetry/instrumentation-pg');
  return new PgInstrumentation({
    requireParentSpan: true,
    ignoreConnectSpans: true,
    enhancedDatabaseReporting: false,
    // The statement text becomes its summary: no literals, no values.
    requestHook(span, { query }) {
      const { summary, operation, table } = summarizeSql(query.text);
      span.updateName(summary);
      span.setAttributes({
        'db.query.text': summary,
        'db.query.summary': summary,
        'db.operation.name': operation,
        ...(table ? { 'db.collection.name': table } : {}),
      });
    },
  });
}
