import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { describeError } from '../errors/describe-error.js';
import { activeTraceFields } from '../telemetry/trace-fields.js';

export type { Logger };

export interface LoggerConfig {
  /** Service name written on every line as `service`. */
  service: string;
  /** Minimum level written. Default: 'info'. */
  level?: string;
  /** Extra pino options (tests use this to capture or silence output). */
  options?: LoggerOptions;
  /** Where lines go. Default: stdout. */
  destination?: DestinationStream;
}

/**
 * Personal data that must never reach a log line, even when a caller logs a
 * whole object by mistake. Handlers log ids, never usernames or e-mails.
 */
const personalData = ['email', 'username', '*.email', '*.username', 'request.*', '*.request.*'];

/**
 * JSON lines on stdout, one object per line, ISO timestamps, level names, and
 * `trace_id`/`span_id` on every line written inside a traced call.
 */
export function createLogger(config: LoggerConfig): Logger {
  return pino(
    {
      level: config.level ?? 'info',
      base: { service: config.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: personalData, censor: '[redacted]' },
      mixin: activeTraceFields,
      // Errors are logged as describeError's safe summary (callers pass one
      // already); pino's own serializer would mangle that into "type":"Object".
      serializers: {
        err: (value: unknown) => (value instanceof Error ? describeError(value) : value),
      },
      ...config.options,
    },
    config.destination,
  );
}

/** A logger that writes nothing, for tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
