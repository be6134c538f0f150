import type { UserEvent } from '../gen/shop/user/v1/events.pb.js';

/** An event as a transport delivers it: where it sits in its stream, and the event. */
export interface DeliveredEvent {
  /**
   * The stream it belongs to, e.g. `grpc:shop.user.v1.UserEventService` for
   * the embedded transport; a Kafka transport names one per partition
   * (`kafka:shop.user.v1.events/3`).
   */
  stream: string;
  /** Its position in that stream: the outbox position, or a Kafka offset. */
  position: bigint;
  event: UserEvent;
}

/** Where a transport hands events, and where it learns how far they were applied. */
export interface UserEventSink {
  /** The last position applied from `stream` (0 for none): a transport resumes after it. */
  positionOf(stream: string): Promise<bigint>;
  /**
   * Applies a batch, in order, committed with the stream's position before it
   * resolves. A transport asks for more only then; one that must acknowledge
   * (Kafka commits offsets) does it after, so a crash in between redelivers
   * a batch that the sink then skips, never loses one.
   */
  apply(batch: readonly DeliveredEvent[]): Promise<void>;
}

/**
 * How UserService's events reach ProductService, chosen by configuration:
 * the embedded gRPC stream from UserService's outbox (one machine, nothing
 * else to run) or, in a later slice, Kafka. Either delivers each stream's
 * events in order, at least once; the sink makes applying them exactly once.
 */
export interface UserEventTransport {
  /** For logs and the consumer's metrics, e.g. `grpc`. */
  readonly name: string;
  /**
   * Delivers events to `sink` until `signal` aborts, reconnecting on its own
   * when the other side is down (with backoff, and the failures logged a few
   * lines at a time, not one per attempt). Resolves once stopped.
   */
  follow(sink: UserEventSink, signal: AbortSignal): Promise<void>;
}
