// The committed generated code must be exactly what proto/ generates now:
// a stale services/gen/ fails here, in CI and locally. Fix: `npm run generate`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { repo } from './support/grpcurl.js';

const fresh = mkdtempSync(join(tmpdir(), 'shop-gen-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

function files(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else found.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return found;
}

it('services/gen matches a fresh generation from proto/', () => {
  execFileSync(join(repo, 'node_modules/.bin/tsx'), ['scripts/generate.ts', '--root', fresh], {
    cwd: repo,
    stdio: 'pipe',
  });
  const expected = files(join(fresh, 'services/gen'));
  const committed = files(join(repo, 'services/gen'));
  expect(expected.size).toBeGreaterThan(10);
  expect([...committed.keys()].sort(), 'file list differs: run npm run generate').toEqual(
    [...expected.keys()].sort(),
  );
  for (const [path, content] of expected) {
    expect(committed.get(path) === content, `${path} is stale: run npm run generate`).toBe(true);
  }
});
