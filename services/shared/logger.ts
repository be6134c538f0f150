import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

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

/** JSON lines on stdout, one object per line, ISO timestamps, level names. */
export function createLogger(config: LoggerConfig): Logger {
  return pino(
    {
      level: config.level ?? 'info',
      base: { service: config.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: personalData, censor: '[redacted]' },
      ...config.options,
    },
    config.destination,
  );
}

/** A logger that writes nothing, for tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
