/**
 * Environment configuration, parsed once at the edge into typed values. Every
 * reader names its variable in the error, so a bad value stops the process
 * with one line that says what to fix.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Readonly<Record<string, string | undefined>>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function fail(name: string, expected: string, value: string): never {
  throw new ConfigError(`${name}: expected ${expected}, got ${JSON.stringify(value)}`);
}

export function readString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function readOptionalString(env: Env, name: string): string | undefined {
  return raw(env, name);
}

export function readInteger(
  env: Env,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const parsed = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < range.min || parsed > range.max) {
    fail(name, `an integer from ${range.min} to ${range.max}`, value);
  }
  return parsed;
}

export function readPort(env: Env, name: string, fallback: number): number {
  return readInteger(env, name, fallback, { min: 0, max: 65535 });
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration in Go/Kubernetes notation ("250ms", "10s", "1.5m", "1h"),
 * returned in milliseconds. A bare number is rejected: units are required so
 * that "30" cannot be misread as seconds or milliseconds.
 */
export function readDuration(
  env: Env,
  name: string,
  fallbackMs: number,
  range: { minMs: number; maxMs: number } = { minMs: 0, maxMs: 24 * 3_600_000 },
): number {
  const value = raw(env, name);
  if (value === undefined) return fallbackMs;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  const ms = match
    ? Math.round(Number(match[1]) * (durationUnits[match[2] ?? ''] ?? Number.NaN))
    : Number.NaN;
  if (!Number.isFinite(ms) || ms < range.minMs || ms > range.maxMs) {
    fail(
      name,
      `a duration such as 500ms, 10s or 2m, from ${range.minMs}ms to ${range.maxMs}ms`,
      value,
    );
  }
  return ms;
}

export function readChoice<T extends string>(
  env: Env,
  name: string,
  fallback: T,
  choices: readonly T[],
): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value))
    fail(name, `one of ${choices.join(', ')}`, value);
  return value as T;
}

const HOST_PORT = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;

/** host:port, as grpc-js targets take it (host may be a name, IPv4 or [IPv6]). */
export function readAddress(env: Env, name: string, fallback: string): string {
  const value = raw(env, name) ?? fallback;
  if (!HOST_PORT.test(value.replace(/^dns:(?:\/\/\/)?/, ''))) {
    fail(name, 'host:port, e.g. localhost:50051', value);
  }
  return value;
}

/** A comma-separated list of host:port (e.g. Kafka's bootstrap brokers); undefined when unset. */
export function readAddressList(env: Env, name: string): string[] | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const addresses = value.split(',').map((part) => part.trim());
  for (const address of addresses) {
    if (!HOST_PORT.test(address)) fail(name, 'host:port[,host:port…], e.g. kafka:9092', value);
  }
  return addresses;
}

/**
 * Reads a process's configuration at its edge. A bad setting ends the process
 * with exit code 1 and one line naming the variable, `<who>: invalid
 * configuration: GRPC_PORT: expected …`, never a stack trace.
 */
export function loadConfigOrExit<Config>(who: string, load: (env: Env) => Config): Config {
  try {
    return load(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${who}: invalid configuration: ${error.message}\n`);
    process.exit(1);
  }
}
