/**
 * How big an error answer may get. A status travels in trailers
 * (grpc-message, percent-encoded, and grpc-status-details-bin, base64), and a
 * grpc-js caller cannot read a trailer block over about 64 KB: the call never
 * answers and the connection's other calls fail with it. Envoy limits header
 * blocks too (60 KiB by default). So whatever a request holds, an error lists
 * a few violations, counts the rest, and its encoded google.rpc.Status stays
 * within a few KB: the whole trailer block stays under 8 KB.
 */
export const errorLimits = {
  /** Violations listed in a BadRequest or PreconditionFailure; the rest are counted. */
  listedViolations: 20,
  /** grpc-message, in characters. */
  messageChars: 256,
  /** Each field path, description, subject, resource name or metadata value, in characters. */
  textChars: 200,
  /** ErrorInfo.metadata entries. */
  metadataEntries: 10,
  /** The encoded google.rpc.Status: violations are dropped from the end until it fits. */
  statusBytes: 3072,
} as const;

/** `text` cut to `max` characters (code points, never half a surrogate pair), marked with '…'. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** `a, b, c and 17 more`: the first `listed` items, then how many were left out. */
export function listWithCount(items: readonly string[], listed: number): string {
  const shown = items.slice(0, listed).join(', ');
  const more = items.length - listed;
  return more > 0 ? `${shown} and ${more} more` : shown;
}
