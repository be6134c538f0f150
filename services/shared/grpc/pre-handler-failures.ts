import type { StatusObject } from '@grpc/grpc-js';
import {
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  status,
} from '@grpc/grpc-js';
import { truncate } from '../errors/error-limits.js';
import type { Logger } from '../process/logger.js';
import { type RecurringWarning, recurringWarning } from '../process/recurring-warning.js';
import type { RpcMetrics } from '../telemetry/rpc-metrics.js';

/** At most one line per reason per interval (the first at once), with the count. */
export const preHandlerFailureLogIntervalMs = 10_000;

/**
 * Why grpc-js ended a call before any handler ran, from the status it sent.
 * The cases and their codes are grpc-js's: INTERNAL for a grpc-timeout that
 * does not parse (as grpc-go answers) and for a message that does not
 * decompress (the spec's code for it), UNIMPLEMENTED for an encoding it does
 * not support, RESOURCE_EXHAUSTED for a message over the receive limit.
 */
export function preHandlerFailureReason(sent: Pick<StatusObject, 'code' | 'details'>): string {
  const { details } = sent;
  if (details.startsWith('Invalid grpc-timeout')) return 'INVALID_GRPC_TIMEOUT';
  if (details.startsWith('Failed to decompress')) return 'UNDECOMPRESSIBLE_MESSAGE';
  if (details.includes('unsupported encoding')) return 'UNSUPPORTED_ENCODING';
  if (/larger than|max(imum)? message size/i.test(details)) return 'MESSAGE_TOO_LARGE';
  if (details.startsWith('Error deserializing')) return 'UNDECODABLE_REQUEST';
  if (details.startsWith('the request did not arrive')) return 'REQUEST_NOT_RECEIVED_IN_TIME';
  if (details.startsWith('the server has too many calls')) return 'TOO_MANY_CALLS';
  return status[sent.code] ?? 'UNKNOWN';
}

/**
 * grpc-js answers some calls itself before any handler runs (a bad
 * grpc-timeout, an undecompressible or oversized message), so neither the
 * access log nor the RPC metrics of bindService see them: a caller counts
 * INTERNALs the service's dashboards do not show. This interceptor, the first
 * around every call, sees every status grpc-js sends (it wraps the call's
 * sendStatus, which grpc-js also calls for its own answers) and reports those
 * sent before the request reached the handler: one `rpc.server.call.duration`
 * measurement with the code, like any call, and a warning per reason, rate
 * limited (see recurringWarning), naming the reason, code and method.
 *
 * Being first around every call, it also enforces the limits only a view of
 * all calls can: a cap on calls open at once over all connections, and a
 * time within which a request must have arrived (see ServerLimits).
 */
export function preHandlerFailureInterceptor(deps: {
  log: Logger;
  metrics: RpcMetrics;
  /**
   * A request that has not fully arrived this long after its headers is
   * answered DEADLINE_EXCEEDED, which frees its stream: a caller cannot hold
   * a half-sent call open (bindService caps the rest of the call).
   */
  requestReceiveTimeoutMs: number;
  /** Calls open at once over all connections; more are answered RESOURCE_EXHAUSTED at once. */
  maxConcurrentCalls: number;
}): ServerInterceptor {
  const warnings = new Map<string, RecurringWarning>();
  const warn = (reason: string) => {
    let warning = warnings.get(reason);
    if (!warning) {
      warning = recurringWarning(
        'call failed before reaching a handler',
        preHandlerFailureLogIntervalMs,
      );
      warnings.set(reason, warning);
    }
    return warning;
  };
  let open = 0;
  return (method, call: ServerInterceptingCallInterface) => {
    const started = performance.now();
    let delivered = false;
    let ended = false;
    open++;
    const end = () => {
      if (ended) return;
      ended = true;
      open--;
      clearTimeout(receiving);
    };
    const sendStatus = call.sendStatus.bind(call);
    call.sendStatus = (sent) => {
      if (!delivered && sent.code !== status.OK) {
        const reason = preHandlerFailureReason(sent);
        deps.metrics.record(method.path, sent.code, (performance.now() - started) / 1000);
        warn(reason).record(deps.log, {
          reason,
          code: status[sent.code] ?? String(sent.code),
          method: method.path,
          details: truncate(sent.details, 200),
        });
      }
      end();
      sendStatus(sent);
    };
    const receiving = setTimeout(() => {
      if (!delivered) {
        call.sendStatus({
          code: status.DEADLINE_EXCEEDED,
          details: 'the request did not arrive in time',
        });
      }
    }, deps.requestReceiveTimeoutMs);
    receiving.unref();
    if (open > deps.maxConcurrentCalls) {
      // After grpc-js has finished setting the call up, as it does for its own early answers.
      process.nextTick(() =>
        call.sendStatus({
          code: status.RESOURCE_EXHAUSTED,
          details: 'the server has too many calls in progress; retry later',
        }),
      );
    }
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMessage(message, nextMessage) {
            delivered = true;
            clearTimeout(receiving);
            nextMessage(message);
          },
          onCancel: end,
        });
      },
    });
  };
}
