import { CanaryError } from './canary-error.js';

/** What `npm run canary -- <command> …` asks for. */
export type Command =
  | { name: 'status' }
  | { name: 'start'; version: string }
  | { name: 'set'; percent: number }
  | { name: 'promote' }
  | { name: 'rollback' };

function parsePercent(value: string | undefined): number {
  if (value === undefined) throw new CanaryError('set needs a percentage: canary set 10');
  if (!/^\d{1,3}$/.test(value) || Number(value) > 100) {
    throw new CanaryError(`the canary weight must be a whole number from 0 to 100, got "${value}"`);
  }
  return Number(value);
}

/** The command from the positional arguments (none means `status`). */
export function parseCommand(positionals: readonly string[]): Command {
  const [name = 'status', argument] = positionals;
  switch (name) {
    case 'status':
    case 'promote':
    case 'rollback':
      return { name };
    case 'start':
      if (!argument) throw new CanaryError('start needs the version to deploy: canary start v3');
      return { name, version: argument };
    case 'set':
      return { name, percent: parsePercent(argument) };
    default:
      throw new CanaryError(
        `unknown command "${name}": use status, start <version>, set <percent>, promote or rollback`,
      );
  }
}
