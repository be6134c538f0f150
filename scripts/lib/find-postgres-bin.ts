import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The server binaries: PG_BIN, else the newest /usr/lib/postgresql/<n>/bin
 * (Debian's layout). Fails, never skips, when they are missing.
 */
export function findPostgresBin(): string {
  const candidates = process.env.PG_BIN
    ? [process.env.PG_BIN]
    : existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : [];
  const bin = candidates.find((dir) => existsSync(join(dir, 'initdb')));
  if (!bin) {
    throw new Error(
      'PostgreSQL server binaries not found (looked in PG_BIN and /usr/lib/postgresql/*/bin). ' +
        'Install them with scripts/ci/install-postgres.sh (Debian: apt-get install postgresql), ' +
        'set PG_BIN to the folder holding initdb and postgres, ' +
        'or set TEST_DATABASE_URL to use your own server.',
    );
  }
  return bin;
}
