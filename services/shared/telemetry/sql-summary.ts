/** What a query span says about its statement: never its text's values, never its parameters. */
export interface SqlSummary {
  /** `SELECT users`: db.query.summary and the span name. */
  summary: string;
  /** `SELECT`: db.operation.name. */
  operation: string;
  /** `users`: db.collection.name, when the statement names one table first. */
  table: string | undefined;
}

const tableAfter =
  /\b(?:FROM|INTO|UPDATE|JOIN|TABLE)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?["`]?([A-Za-z_][\w.]*)/i;

/**
 * The operation and main table of a statement, e.g. `SELECT users` for
 * `SELECT id FROM users WHERE email = ?`, low in cardinality (a span name) and
 * free of values even when a statement inlines literals.
 */
export function summarizeSql(sql: string): SqlSummary {
  const operation = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';
  const table = tableAfter.exec(sql)?.[1];
  return { summary: table ? `${operation} ${table}` : operation, operation, table };
}
