/**
 * The gRPC codes that count as a server error, for every rule, alert,
 * dashboard panel and canary analysis of this project: the service failed
 * its caller. Client errors (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS,
 * FAILED_PRECONDITION, PERMISSION_DENIED, …) are the service answering as it
 * should, and CANCELLED is the caller giving up: neither ever counts.
 * test/k8s/monitoring-rules.test.ts checks that every `rpc_status_code=~`
 * matcher in k8s/components/monitoring names exactly these.
 */
export const serverErrorCodes = [
  'UNAVAILABLE',
  'INTERNAL',
  'UNKNOWN',
  'DEADLINE_EXCEEDED',
  'DATA_LOSS',
] as const;

/** The same codes as a PromQL regex, as the rules write it: `rpc_status_code=~"…"`. */
export const serverErrorRegex = serverErrorCodes.join('|');
