import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '../process/logger.js';

/** What a handler knows about the call it serves, besides the request. */
export interface CallContext {
  /** Full method path, e.g. `/shop.user.v1.UserService/GetUser`. */
  readonly method: string;
  /**
   * The deadline the call works to: the caller's, clamped to the server's
   * cap on call duration, or that cap when the caller set none.
   */
  readonly deadline: Date;
  /** When the call arrived (epoch ms): with the deadline, the call's time budget. */
  readonly receivedAt: number;
  /** Aborted when the caller cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** The inbound metadata (headers). */
  readonly metadata: Metadata;
  /** The grpc-js call: the parent that outbound calls inherit deadline and cancellation from. */
  readonly call: ServerUnaryCall<unknown, unknown>;
  /** Logger for this call. */
  readonly log: Logger;
}
