import { type Link, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { spanContextOf } from '../shared/events/trace-context.js';
import {
  createUserEventMetrics,
  type UserEventMetrics,
} from '../shared/events/user-event-metrics.js';
import { type BackgroundLoop, createBackgroundLoop } from '../shared/process/background-loop.js';
import type { Logger } from '../shared/process/logger.js';
import { errorType, tracer } from '../shared/telemetry/tracer.js';
import type { OwnerChange, OwnerReadModel } from './owner-read-model.js';
import type { DeliveredEvent, UserEventSink, UserEventTransport } from './user-event-transport.js';

/**
 * Keeps the owner read model current from UserService's events, in the
 * background: start() once the schema is migrated; stop() resolves once the
 * batch being applied, if any, has committed.
 */
export type OwnerReplication = BackgroundLoop;

export interface OwnerReplicationDeps {
  transport: UserEventTransport;
  readModel: OwnerReadModel;
  log: Logger;
  metrics?: UserEventMetrics;
}

/** The owner an event describes, if it is one the read model keeps. */
function changeOf({ position, event }: DeliveredEvent): OwnerChange {
  const registered = event.userRegistered;
  return {
    position,
    owner: registered && { id: registered.userId, username: registered.username },
  };
}

/**
 * The sink that applies events to the read model, one transaction per batch
 * and stream, and the loop that runs the transport. Each batch is one span
 * (OpenTelemetry messaging conventions, `process`), linked to the traces of
 * the registrations it applies, and one log line.
 */
export function createOwnerReplication(deps: OwnerReplicationDeps): OwnerReplication {
  const { transport, readModel, log } = deps;
  const metrics = deps.metrics ?? createUserEventMetrics(transport.name);
  const sink: UserEventSink = {
    positionOf: (stream) => readModel.positionOf(stream),
    async apply(batch) {
      const byStream = new Map<string, DeliveredEvent[]>();
      for (const delivered of batch) {
        byStream.set(delivered.stream, [...(byStream.get(delivered.stream) ?? []), delivered]);
      }
      for (const [stream, events] of byStream) {
        const links: Link[] = events.flatMap(({ event }) => {
          const context = spanContextOf(event);
          return context ? [{ context }] : [];
        });
        const span = tracer().startSpan('process user events', {
          kind: SpanKind.CONSUMER,
          links,
          attributes: {
            'messaging.system': transport.name,
            'messaging.operation.type': 'process',
            'messaging.destination.name': stream,
            'messaging.batch.message_count': events.length,
          },
        });
        try {
          const result = await readModel.apply(stream, events.map(changeOf));
          const now = Date.now();
          metrics.consumed(result.applied, result.skipped);
          // Positions grow within a batch, so the skipped events are its first ones.
          for (const { event } of events.slice(events.length - result.applied)) {
            if (event.time) metrics.delay((now - event.time.getTime()) / 1000);
          }
          const last = events.at(-1)?.event.time;
          log.info(
            {
              stream,
              applied: result.applied,
              skipped: result.skipped,
              position: String(result.position),
              lag_ms: last ? now - last.getTime() : undefined,
            },
            'user events applied',
          );
        } catch (error) {
          metrics.failed('apply');
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorType(error) });
          throw error;
        } finally {
          span.end();
        }
      }
    },
  };

  return createBackgroundLoop({
    name: 'owner replication',
    fields: { transport: transport.name },
    log,
    run: (signal) => transport.follow(sink, signal),
  });
}
