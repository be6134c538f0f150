import { type Link, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { summarizeError } from '../shared/errors/describe-error.js';
import { type KafkaRecordParts, toKafkaRecord } from '../shared/events/kafka-binding.js';
import { spanContextOf } from '../shared/events/trace-context.js';
import {
  createUserEventMetrics,
  type UserEventMetrics,
} from '../shared/events/user-event-metrics.js';
import { type BackgroundLoop, createBackgroundLoop } from '../shared/process/background-loop.js';
import { type BackoffOptions, createBackoff } from '../shared/process/backoff.js';
import type { Logger } from '../shared/process/logger.js';
import { recurringWarning } from '../shared/process/recurring-warning.js';
import { errorType, tracer } from '../shared/telemetry/tracer.js';
import type { OutboxSignal } from './outbox-signal.js';
import type { UserStore } from './store.js';
import { encodedUserEvent } from './user-events.js';

/**
 * Publishes the outbox in the background, while the process runs: start()
 * once the schema is migrated; stop() resolves once the batch in flight, if
 * any, was acknowledged and marked (or failed).
 */
export type EventRelay = BackgroundLoop;

export interface KafkaRelayDeps {
  store: UserStore;
  /** Wakes the relay when this process stores an event. */
  outbox: OutboxSignal;
  /** How often a caught-up relay looks for events other replicas stored. */
  pollIntervalMs: number;
  topic: string;
  /**
   * Sends records to `topic` and resolves once the broker acknowledged every
   * one (acks=all, an idempotent producer: see main.ts).
   */
  send(records: readonly KafkaRecordParts[]): Promise<void>;
  log: Logger;
  metrics?: UserEventMetrics;
  backoff?: BackoffOptions;
}

/** Events per publish: one produce request, one position update. */
export const RELAY_BATCH_SIZE = 100;

/** How often, at most, a broker outage writes its `user events not published` line. */
const unpublishedIntervalMs = 5000;

/**
 * The outbox relay: sends the events after its stored position to Kafka,
 * oldest first, and moves the position only after the broker acknowledged
 * them (UserStore.relayEvents). A crash between the two sends them again:
 * at least once, each with its position as the record's CloudEvents
 * `sequence`, by which the consumer recognises a repeat. One log line and
 * one PRODUCER span per batch, linked to the registrations' traces.
 */
export function createKafkaRelay(deps: KafkaRelayDeps): EventRelay {
  const { store, outbox, pollIntervalMs, topic, send, log } = deps;
  const metrics = deps.metrics ?? createUserEventMetrics('kafka');
  const relay = `kafka:${topic}`;
  const unpublished = recurringWarning('user events not published', unpublishedIntervalMs);

  async function run(signal: AbortSignal) {
    const backoff = createBackoff(deps.backoff);
    let failures = 0;
    while (!signal.aborted) {
      const seen = outbox.version;
      let sent: number | undefined;
      try {
        sent = await store.relayEvents(relay, RELAY_BATCH_SIZE, async (events) => {
          const links: Link[] = events.flatMap((event) => {
            const context = spanContextOf(event);
            return context ? [{ context }] : [];
          });
          const span = tracer().startSpan(`send ${topic}`, {
            kind: SpanKind.PRODUCER,
            links,
            attributes: {
              'messaging.system': 'kafka',
              'messaging.operation.type': 'send',
              'messaging.destination.name': topic,
              'messaging.batch.message_count': events.length,
            },
          });
          try {
            await send(
              events.map((event) =>
                toKafkaRecord({ event: encodedUserEvent(event), sequence: event.position }),
              ),
            );
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: errorType(error) });
            throw error;
          } finally {
            span.end();
          }
          log.info(
            {
              topic,
              published: events.length,
              position: String(events.at(-1)?.position),
              lag_ms: Date.now() - (events.at(-1)?.time.getTime() ?? Date.now()),
            },
            'user events published',
          );
        });
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        unpublished.record(log, {
          topic,
          err: summarizeError(error),
          retry_in_ms: backoff.delayMs,
        });
        await backoff.wait(signal);
        continue;
      }
      if (failures > 0) {
        log.info({ topic, failures }, 'publishing user events again');
        failures = 0;
      }
      backoff.reset();
      if (sent) metrics.published(topic, sent);
      // A full batch means more may be waiting; otherwise wait for news.
      if (sent === undefined || sent < RELAY_BATCH_SIZE) {
        await outbox.changedSince(seen, pollIntervalMs, signal);
      }
    }
  }

  return createBackgroundLoop({ name: 'user events relay', fields: { topic }, log, run });
}
