import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '../process/logger.js';

/** What a handler knows about the call it serves, besides the request. */
export interface CallContext {
  /** Full method path, e.g. `/shop.user.v1.UserService/GetUser`. */
  readonly method: string;
  /** The caller's deadline, or undefined when it set none. */
  readonly deadline: Date | undefined;
  /** When the call arrived (epoch ms): with the deadline, the call's time budget. */
  readonly receivedAt: number;
  /** Aborted when the caller cancels or its deadline passes. */
  readonly signal: AbortSignal;
  /** The inbound metadata (headers). */
  readonly metadata: Metadata;
  /** The grpc-js call: the parent that outbound calls inherit deadline and cancellation from. */
  readonly call: ServerUnaryCall<unknown, unknown>;
  /** Logger for this call. */
  readonly log: Logger;
}
