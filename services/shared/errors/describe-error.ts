/**
 * The fields of an error that are safe to log. Whole error objects are never
 * logged: driver errors carry extras (PostgreSQL's `detail`, for one) that can
 * quote personal data from the offending row.
 */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: error.stack,
    ...(error.cause === undefined ? {} : { cause: describeError(error.cause) }),
  };
}

/** describeError without stack traces: an expected outage is one line, not a screenful. */
export function summarizeError(error: unknown): Record<string, unknown> {
  const { stack: _stack, cause: _cause, ...rest } = describeError(error);
  return {
    ...rest,
    ...(error instanceof Error && error.cause !== undefined
      ? { cause: summarizeError(error.cause) }
      : {}),
  };
}
