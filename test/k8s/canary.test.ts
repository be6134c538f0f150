// `npm run canary` (scripts/canary.ts), run as a process on a copy of k8s/
// and mesh/, never on the real manifests: it changes exactly what it should,
// the result still renders and validates, and it refuses nonsense.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  destinationProblems,
  outlierProblems,
  probeProblems,
  retryProblems,
  rolloutProblems,
  shutdownProblems,
  weightProblems,
} from './checks.js';
import { overlayNames, renderOverlay, repoRoot } from './manifests.js';
import { buildSchemas, validateYaml } from './validators.js';

const routes = 'mesh/product-service.yaml';
const versions = 'k8s/base/product-service/kustomization.yaml';

let work: string;
let schemas: string;
let copies = 0;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'canary-'));
  schemas = buildSchemas(join(work, 'schemas'));
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A fresh copy of the manifests to edit. */
function copy(): string {
  const root = join(work, `copy-${++copies}`);
  for (const dir of ['k8s', 'mesh'])
    cpSync(join(repoRoot, dir), join(root, dir), { recursive: true });
  return root;
}

function canary(root: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(
    join(repoRoot, 'node_modules/.bin/tsx'),
    [join(repoRoot, 'scripts/canary.ts'), ...args, '--root', root],
    { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env } },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

/** Lines that differ between two versions of a file of the same length in lines. */
function changedLines(before: string, after: string): [string, string][] {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b).toHaveLength(a.length);
  return a.flatMap((line, i) =>
    line === b[i] ? [] : ([[line, b[i] ?? '']] as [string, string][]),
  );
}

/** Renders every overlay of a copy and runs the validators and the routing and pod checks. */
function validate(root: string): string[] {
  return overlayNames(root).flatMap((overlay) => {
    const { yaml, objects } = renderOverlay(overlay, root);
    return [
      ...validateYaml(yaml, join(root, '.validate', overlay), schemas),
      ...weightProblems(objects),
      ...destinationProblems(objects),
      ...retryProblems(objects),
      ...outlierProblems(objects),
      ...probeProblems(objects),
      ...shutdownProblems(objects),
      ...rolloutProblems(objects),
    ].map((p) => `${overlay}: ${p}`);
  });
}

describe('canary set 25', () => {
  let root: string;
  let result: ReturnType<typeof canary>;

  beforeAll(() => {
    root = copy();
    result = canary(root, ['set', '25']);
  });

  it('succeeds and says what the split is now', () => {
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('takes 75%');
    expect(result.stdout).toContain('takes 25%');
  });

  it('changes exactly the weights, and nothing else in the repository copy', () => {
    const changed = changedLines(read(repoRoot, routes), read(root, routes));
    expect(changed.length).toBeGreaterThan(0);
    for (const [before, after] of changed) {
      expect(before).toMatch(/^\s+weight: \d+$/);
      expect(after.replace(/\d+$/, '')).toBe(before.replace(/\d+$/, ''));
      expect(['weight: 75', 'weight: 25']).toContain(after.trim());
    }
    expect(read(root, versions)).toBe(read(repoRoot, versions));
    const { objects } = renderOverlay('local', root);
    const canaryWeights = objects
      .filter((o) => o.kind === 'VirtualService' && o.metadata.name === 'product-service-routes')
      .flatMap((vs) => JSON.stringify(vs).match(/"subset":"canary"[^}]*},"weight":\d+/g) ?? []);
    expect(canaryWeights.length).toBe(changed.length / 2);
    expect(canaryWeights.every((w) => w.endsWith('"weight":25'))).toBe(true);
  });

  it('still renders and validates', () => {
    expect(validate(root)).toEqual([]);
  });
});

describe('a full release', () => {
  it('shifts 10 → 50 → 100 and promotes v2, retiring v1; the result validates', () => {
    const root = copy();
    for (const percent of ['10', '50', '100'])
      expect(canary(root, ['set', percent]).status).toBe(0);
    const promoted = canary(root, ['promote']);
    expect(promoted.stderr).toBe('');
    expect(promoted.stdout).toContain('no canary: v2 is stable');
    expect(promoted.stdout).toContain('deployment/product-service-v1');
    expect(read(root, versions)).not.toMatch(/^\s+- v1$/m);
    expect(validate(root)).toEqual([]);

    // The next release: a v3 folder, started as the canary at 0%.
    const v3 = join(root, 'k8s/base/product-service/v3');
    cpSync(join(root, 'k8s/base/product-service/v2'), v3, { recursive: true });
    const kustomization = join(v3, 'kustomization.yaml');
    writeFileSync(kustomization, readFileSync(kustomization, 'utf8').replaceAll('v2', 'v3'));
    const started = canary(root, ['start', 'v3']);
    expect(started.stderr).toBe('');
    expect(started.stdout).toContain('stable v2 takes 100%, canary v3 takes 0%');
    expect(validate(root)).toEqual([]);
  });

  it('rolls back to v1, retiring v2; the result validates', () => {
    const root = copy();
    expect(canary(root, ['set', '50']).status).toBe(0);
    const rolledBack = canary(root, ['rollback']);
    expect(rolledBack.stderr).toBe('');
    expect(rolledBack.stdout).toContain('no canary: v1 is stable');
    expect(read(root, versions)).not.toMatch(/^\s+- v2$/m);
    expect(validate(root)).toEqual([]);
  });
});

describe('refusals', () => {
  let root: string;

  beforeAll(() => {
    root = copy();
  });

  it.each([
    [['set', '101'], 'whole number from 0 to 100'],
    [['set', 'ten'], 'whole number from 0 to 100'],
    [['set', '12.5'], 'whole number from 0 to 100'],
    [['set'], 'set needs a percentage'],
    [['promote'], 'shift all of it first'],
    [['start', 'v2'], 'already running'],
    [['launch'], 'unknown command'],
    [['set', '10', '--apply'], '--apply needs --overlay'],
    [['set', '10', '--apply', '--overlay', 'staging'], 'no overlay k8s/overlays/staging'],
  ])('%j: exit 2, "%s", nothing changed', (args, message) => {
    const result = canary(root, args);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
    expect(read(root, routes)).toBe(read(repoRoot, routes));
    expect(read(root, versions)).toBe(read(repoRoot, versions));
  });

  it('refuses promote, set and rollback when no canary runs, and start of a missing folder', () => {
    const idle = copy();
    expect(canary(idle, ['rollback']).status).toBe(0);
    expect(canary(idle, ['promote']).stderr).toContain('no canary is deployed');
    expect(canary(idle, ['set', '10']).stderr).toContain('no canary is running');
    expect(canary(idle, ['rollback']).stderr).toContain('nothing to roll back');
    expect(canary(idle, ['start', 'v7']).stderr).toContain('no k8s/base/product-service/v7/');
  });
});

// No cluster here: a stand-in kubectl records what --apply would run.
describe('--apply', () => {
  it('applies the overlay, then deletes the retired Deployment', () => {
    const root = copy();
    const log = join(root, 'kubectl.log');
    const fake = join(root, 'kubectl');
    writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\n`);
    chmodSync(fake, 0o755);
    const env = { KUBECTL: fake };
    expect(canary(root, ['set', '100', '--apply', '--overlay', 'local'], env).status).toBe(0);
    expect(canary(root, ['promote', '--apply', '--overlay', 'local'], env).status).toBe(0);
    const overlay = join(root, 'k8s/overlays/local');
    expect(read(root, 'kubectl.log').trim().split('\n')).toEqual([
      `apply -k ${overlay}`,
      `apply -k ${overlay}`,
      '-n shop delete deployment/product-service-v1 horizontalpodautoscaler/product-service-v1 --ignore-not-found',
    ]);
  });
});
