// `npm run canary` (scripts/canary/), called in-process: the plan on the
// real manifests (never written), and the command on copies of k8s/ and
// mesh/. It changes exactly what it should, the result still renders and
// validates, it refuses nonsense, and a failed --apply puts the files back.
// One test spawns the CLI itself, end to end.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CanaryError } from '../../scripts/canary/canary-error.js';
import type { Kubectl } from '../../scripts/canary/kubectl.js';
import {
  type Manifests,
  readManifests,
  routesPath,
  type ServiceName,
  services,
  versionsPath,
} from '../../scripts/canary/manifests.js';
import { parseCommand } from '../../scripts/canary/parse-command.js';
import { type Plan, plan } from '../../scripts/canary/plan.js';
import { runCanary } from '../../scripts/canary/run-canary.js';
import { parseStream, printStream } from '../../scripts/canary/yaml-stream.js';
import {
  canaryProblems,
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

const product = 'product-service';
const user = 'user-service';

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

const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

/** A kubectl that must not run. */
const noKubectl: Kubectl = (args) => {
  throw new Error(`kubectl ${args.join(' ')} ran without --apply`);
};

/** `npm run canary -- <args> --root <root>`, in-process. */
function canary(root: string, args: string[], kubectl: Kubectl = noKubectl) {
  let stdout = '';
  let stderr = '';
  const status = runCanary([...args, '--root', root], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    kubectl,
    defaultRoot: join(work, 'not-a-checkout'),
  });
  return { status, stdout, stderr };
}

/** Runs each command on `root` and expects it to succeed. */
function release(root: string, service: ServiceName, ...commands: string[][]): void {
  for (const command of commands) {
    const result = canary(root, [...command, '--service', service]);
    expect(result.stderr, command.join(' ')).toBe('');
    expect(result.status).toBe(0);
  }
}

/** The manifests with a plan's edits made, in memory. */
function withEdits(manifests: Manifests, done: Plan): Manifests {
  const edited = (file: Manifests['routes']) =>
    done.edits.find((edit) => edit.path === file.path) ?? file;
  return { ...manifests, routes: edited(manifests.routes), versions: edited(manifests.versions) };
}

/** Plans the commands one after the other, in memory. */
function planAll(manifests: Manifests, ...commands: string[][]): Manifests {
  return commands.reduce((m, command) => withEdits(m, plan(m, parseCommand(command))), manifests);
}

/** Lines that differ between two versions of a file of the same length in lines. */
function changedLines(before: string, after: string): [string, string][] {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b).toHaveLength(a.length);
  return a.flatMap((line, i) =>
    line === b[i] ? [] : ([[line, b[i] ?? '']] as [string, string][]),
  );
}

/** The lines `after` lacks and the lines it adds, in order (a multiset difference). */
function lineDiff(before: string, after: string) {
  const count = (text: string) => {
    const lines = new Map<string, number>();
    for (const line of text.split('\n')) lines.set(line, (lines.get(line) ?? 0) + 1);
    return lines;
  };
  const a = count(before);
  const b = count(after);
  const minus = (x: Map<string, number>, y: Map<string, number>) =>
    [...x].flatMap(([line, n]) => Array<string>(Math.max(0, n - (y.get(line) ?? 0))).fill(line));
  return { removed: minus(a, b), added: minus(b, a) };
}

/** Copies a version folder to a new version, as docs/kubernetes.md says to. */
function addVersion(root: string, service: ServiceName, from: string, to: string): void {
  const dir = join(root, 'k8s/base', service, to);
  cpSync(join(root, 'k8s/base', service, from), dir, { recursive: true });
  const kustomization = join(dir, 'kustomization.yaml');
  writeFileSync(
    kustomization,
    readFileSync(kustomization, 'utf8').replace(new RegExp(`\\b${from}\\b`, 'g'), to),
  );
}

/**
 * Renders every overlay of a copy and runs the validators and the routing and
 * pod checks. Not the overlays where Argo Rollouts runs ProductService
 * (k8s/components/progressive): there the controller, not this tool, moves
 * the canary, and they take ProductService's stable version folder (v1) as
 * their workload, which `promote` retires (test/k8s/progressive.test.ts
 * checks them on the repository's manifests).
 */
function validate(root: string): string[] {
  return overlayNames(root).flatMap((overlay) => {
    const { yaml, objects } = renderOverlay(overlay, root);
    if (objects.some((o) => o.kind === 'Rollout')) return [];
    return [
      ...validateYaml(yaml, join(root, '.validate', overlay), schemas),
      ...weightProblems(objects),
      ...canaryProblems(objects),
      ...destinationProblems(objects),
      ...retryProblems(objects),
      ...outlierProblems(objects),
      ...probeProblems(objects),
      ...shutdownProblems(objects),
      ...rolloutProblems(objects),
    ].map((p) => `${overlay}: ${p}`);
  });
}

/**
 * Every YAML file under k8s/base/ and mesh/ (the plan edits files there),
 * relative to the repository.
 */
function yamlFiles(): string[] {
  return ['k8s/base', 'mesh'].flatMap((dir) =>
    readdirSync(join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.yaml'))
      .map((file) => relative(repoRoot, join(repoRoot, dir, file))),
  );
}

describe('the YAML documents the plan edits', () => {
  it.each(yamlFiles())('print %s back byte for byte', (file) => {
    const text = read(repoRoot, file);
    expect(printStream(parseStream(text, file))).toBe(text);
  });

  it('print without the reformatting that toString does by default', () => {
    const text = `resources: [v1, v2] # flow\nnote: ${'word '.repeat(20)}end\n`;
    const defaults = parseAllDocuments(text)
      .map((d) => d.toString())
      .join('');
    expect(defaults).toContain('[ v1, v2 ]');
    expect(defaults.split('\n').length).toBeGreaterThan(3);
    expect(printStream(parseStream(text, 'example.yaml'))).toBe(text);
  });

  it.each(services)('%s: status plans no edit', (service) => {
    expect(plan(readManifests(repoRoot, service), { name: 'status' }).edits).toEqual([]);
  });

  it('set to the weight the manifests already have plans no edit either', () => {
    expect(plan(readManifests(repoRoot, product), { name: 'set', percent: 0 }).edits).toEqual([]);
  });

  it('says what each service runs', () => {
    expect(plan(readManifests(repoRoot, product), { name: 'status' }).summary).toBe(
      'stable v1 takes 100%, canary v2 takes 0% (and every call with x-canary: true) ' +
        '(deployed: v1, v2)',
    );
    expect(plan(readManifests(repoRoot, user), { name: 'status' }).summary).toBe(
      'no canary: v1 is stable and takes all traffic (deployed: v1)',
    );
  });
});

describe('the plan changes only the intended lines', () => {
  const manifests = () => readManifests(repoRoot, product);

  it('set 25: the weights and nothing else', () => {
    const before = manifests();
    const done = plan(before, parseCommand(['set', '25']));
    expect(done.summary).toContain('takes 75%');
    expect(done.summary).toContain('takes 25%');
    expect(done.edits.map((e) => e.path)).toEqual([routesPath(product)]);
    const changed = changedLines(before.routes.text, withEdits(before, done).routes.text);
    // Three weighted routes (reads, creates, other), two weights each.
    expect(changed).toHaveLength(6);
    for (const [was, now] of changed) {
      expect(was).toMatch(/^\s+weight: \d+$/);
      expect(now.replace(/\d+$/, '')).toBe(was.replace(/\d+$/, ''));
      expect(['weight: 75', 'weight: 25']).toContain(now.trim());
    }
  });

  it('promote: the stable subset, the weights, and the retired version’s line', () => {
    const at100 = planAll(manifests(), ['set', '100']);
    const done = plan(at100, { name: 'promote' });
    expect(done.retired).toBe('v1');
    const promoted = withEdits(at100, done);
    const changed = changedLines(at100.routes.text, promoted.routes.text);
    expect(changed).toContainEqual(['        version: v1', '        version: v2']);
    expect(changed.filter(([was]) => /weight/.test(was))).toHaveLength(6);
    expect(changed).toHaveLength(7);
    expect(lineDiff(at100.versions.text, promoted.versions.text)).toEqual({
      removed: ['  - v1'],
      added: [],
    });
  });

  it('start v3: the canary subset and one line listing v3 after the last version', () => {
    const promoted = planAll(manifests(), ['set', '100'], ['promote']);
    const withV3 = { ...promoted, versionFolders: [...promoted.versionFolders, 'v3'] };
    const done = plan(withV3, parseCommand(['start', 'v3']));
    expect(done.started).toBe('v3');
    expect(done.summary).toBe(
      'stable v2 takes 100%, canary v3 takes 0% (and every call with x-canary: true) ' +
        '(deployed: v2, v3)',
    );
    const started = withEdits(withV3, done);
    expect(changedLines(promoted.routes.text, started.routes.text)).toEqual([
      ['        version: v2', '        version: v3'],
    ]);
    expect(started.versions.text).toBe(
      promoted.versions.text.replace('  - v2\n', '  - v2\n  - v3\n'),
    );
  });

  it('rollback: the canary subset, the weights, and the canary’s line', () => {
    const at50 = planAll(manifests(), ['set', '50']);
    const done = plan(at50, { name: 'rollback' });
    expect(done.retired).toBe('v2');
    expect(done.summary).toBe('no canary: v1 is stable and takes all traffic (deployed: v1)');
    const rolledBack = withEdits(at50, done);
    const changed = changedLines(at50.routes.text, rolledBack.routes.text);
    expect(changed).toContainEqual(['        version: v2', '        version: v1']);
    expect(changed).toHaveLength(7);
    expect(lineDiff(at50.versions.text, rolledBack.versions.text)).toEqual({
      removed: ['  - v2'],
      added: [],
    });
  });

  it('refuses manifests whose weighted routes disagree, or do not add up to 100', () => {
    const m = manifests();
    const disagree = {
      ...m,
      routes: { ...m.routes, text: m.routes.text.replace('weight: 0', 'weight: 5') },
    };
    expect(() => plan(disagree, { name: 'status' })).toThrow(/weighted routes disagree/);
    const total = m.routes.text.replaceAll('weight: 0', 'weight: 5');
    expect(() => plan({ ...m, routes: { ...m.routes, text: total } }, { name: 'status' })).toThrow(
      'weights add up to 105',
    );
  });
});

// Each step renders and validates every overlay (kubeconform, istioctl): on
// a busy machine a multi-step test takes more than the default 30 s.
describe('product-service on a copy', { timeout: 120_000 }, () => {
  it('set 25 renders with the new weights and validates', () => {
    const root = copy();
    const result = canary(root, ['set', '25']);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout).toContain('product-service: stable v1 takes 75%, canary v2 takes 25%');
    expect(read(root, versionsPath(product))).toBe(read(repoRoot, versionsPath(product)));
    const { objects } = renderOverlay('local', root);
    const canaryWeights = objects
      .filter((o) => o.kind === 'VirtualService' && o.metadata.name === 'product-service-routes')
      .flatMap((vs) => JSON.stringify(vs).match(/"subset":"canary"[^}]*},"weight":\d+/g) ?? []);
    expect(canaryWeights).toHaveLength(3);
    expect(canaryWeights.every((w) => w.endsWith('"weight":25'))).toBe(true);
    expect(validate(root)).toEqual([]);
  });

  it('shifts 10 → 50 → 100 and promotes v2, retiring v1; then starts v3; each result validates', () => {
    const root = copy();
    release(root, product, ['set', '10'], ['set', '50'], ['set', '100']);
    const promoted = canary(root, ['promote']);
    expect(promoted.stderr).toBe('');
    expect(promoted.stdout).toContain('no canary: v2 is stable');
    expect(promoted.stdout).toContain(
      'kubectl -n shop delete deployment/product-service-v1 horizontalpodautoscaler/product-service-v1',
    );
    expect(read(root, versionsPath(product))).not.toMatch(/^\s+- v1$/m);
    expect(validate(root)).toEqual([]);

    // The next release: a v3 folder, started as the canary at 0%.
    addVersion(root, product, 'v2', 'v3');
    const started = canary(root, ['start', 'v3']);
    expect(started.stderr).toBe('');
    expect(started.stdout).toContain('stable v2 takes 100%, canary v3 takes 0%');
    expect(validate(root)).toEqual([]);
  });

  it('rolls back to v1, retiring v2; the result validates', () => {
    const root = copy();
    release(root, product, ['set', '50']);
    const rolledBack = canary(root, ['rollback']);
    expect(rolledBack.stderr).toBe('');
    expect(rolledBack.stdout).toContain('no canary: v1 is stable');
    expect(read(root, versionsPath(product))).not.toMatch(/^\s+- v2$/m);
    expect(validate(root)).toEqual([]);
  });
});

describe('user-service on a copy', { timeout: 120_000 }, () => {
  it('starts a v2 canary, shifts 25 → 100 and promotes it, retiring v1; each result validates', () => {
    const root = copy();
    addVersion(root, user, 'v1', 'v2');
    const started = canary(root, ['start', 'v2', '--service', user]);
    expect(started).toMatchObject({ status: 0, stderr: '' });
    expect(started.stdout).toBe(
      'user-service: stable v1 takes 100%, canary v2 takes 0% (and every call with ' +
        'x-canary: true) (deployed: v1, v2)\n',
    );
    expect(lineDiff(read(repoRoot, versionsPath(user)), read(root, versionsPath(user)))).toEqual({
      removed: [],
      added: ['  - v2'],
    });
    // Locally both versions mount the one SQLite claim: Recreate, one replica, one node.
    const local = renderOverlay('local', root).objects.filter(
      (o) => o.kind === 'Deployment' && o.metadata.labels?.app === user,
    );
    expect(local.map((d) => d.metadata.name).sort()).toEqual([
      'user-service-v1',
      'user-service-v2',
    ]);
    expect(JSON.stringify(local)).toMatch(
      /claimName":"user-service-data".*claimName":"user-service-data/,
    );
    expect(validate(root)).toEqual([]);

    const before = read(root, routesPath(user));
    release(root, user, ['set', '25']);
    const changed = changedLines(before, read(root, routesPath(user)));
    // Two weights on each weighted route: reads, creates, events, other.
    expect(changed).toHaveLength(8);
    for (const [, now] of changed) expect(['weight: 75', 'weight: 25']).toContain(now.trim());
    expect(validate(root)).toEqual([]);

    release(root, user, ['set', '100']);
    const promoted = canary(root, ['promote', '--service', user]);
    expect(promoted.stderr).toBe('');
    expect(promoted.stdout).toContain('user-service: no canary: v2 is stable');
    expect(promoted.stdout).toContain('deployment/user-service-v1');
    expect(read(root, versionsPath(user))).not.toMatch(/^\s+- v1$/m);
    expect(validate(root)).toEqual([]);
  });

  it('rolls a v2 canary back, leaving the manifests as they were', () => {
    const root = copy();
    addVersion(root, user, 'v1', 'v2');
    release(root, user, ['start', 'v2'], ['set', '50'], ['rollback']);
    expect(read(root, routesPath(user))).toBe(read(repoRoot, routesPath(user)));
    expect(read(root, versionsPath(user))).toBe(read(repoRoot, versionsPath(user)));
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
    [['start'], 'start needs the version'],
    [['promote'], 'shift all of it first'],
    [['start', 'v2'], 'already running'],
    [['launch'], 'unknown command'],
    [['status', '--verbose'], "Unknown option '--verbose'"],
    [['set', '10', '--apply'], '--apply needs --overlay'],
    [['set', '10', '--apply', '--overlay', 'staging'], 'no overlay k8s/overlays/staging'],
    [['set', '10', '--service', 'order-service'], 'unknown service "order-service"'],
    [['set', '10', '--service', user], 'no canary is running (v1 takes all traffic)'],
    [['promote', '--service', user], 'no canary is deployed'],
    [['start', 'v1', '--service', user], 'v1 is the stable version already'],
    [['start', 'workload', '--service', user], 'no k8s/base/user-service/workload/'],
    [['start', 'v2', '--service', user], 'no k8s/base/user-service/v2/'],
  ])('%j: exit 2, "%s", nothing changed', (args, message) => {
    const result = canary(root, args);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
    for (const service of services) {
      expect(read(root, routesPath(service))).toBe(read(repoRoot, routesPath(service)));
      expect(read(root, versionsPath(service))).toBe(read(repoRoot, versionsPath(service)));
    }
  });

  it('refuses promote, set and rollback when no canary runs, and start of a missing folder', () => {
    const idle = copy();
    expect(canary(idle, ['rollback']).status).toBe(0);
    expect(canary(idle, ['promote']).stderr).toContain('no canary is deployed');
    expect(canary(idle, ['set', '10']).stderr).toContain('no canary is running');
    expect(canary(idle, ['rollback']).stderr).toContain('nothing to roll back');
    expect(canary(idle, ['start', 'v7']).stderr).toContain('no k8s/base/product-service/v7/');
  });

  it('plans refuse with a CanaryError, and never write', () => {
    expect(() => plan(readManifests(repoRoot, product), { name: 'promote' })).toThrow(CanaryError);
  });
});

// No cluster here: a stand-in kubectl records what --apply would run.
describe('--apply', () => {
  /** A kubectl that records its arguments and fails the calls `fails` picks. */
  function fakeKubectl(fails: (args: readonly string[]) => boolean = () => false) {
    const calls: string[] = [];
    const kubectl: Kubectl = (args) => {
      calls.push(args.join(' '));
      return { status: fails(args) ? 1 : 0 };
    };
    return { calls, kubectl };
  }

  it('applies the overlay, then deletes the retired Deployment', () => {
    const root = copy();
    const { calls, kubectl } = fakeKubectl();
    expect(canary(root, ['set', '100', '--apply', '--overlay', 'local'], kubectl).status).toBe(0);
    expect(canary(root, ['promote', '--apply', '--overlay', 'local'], kubectl).status).toBe(0);
    const overlay = join(root, 'k8s/overlays/local');
    expect(calls).toEqual([
      `apply -k ${overlay}`,
      `apply -k ${overlay}`,
      '-n shop delete deployment/product-service-v1 horizontalpodautoscaler/product-service-v1 --ignore-not-found',
    ]);
  });

  it('applies a started user-service canary and waits for its rollout', () => {
    const root = copy();
    addVersion(root, user, 'v1', 'v2');
    const { calls, kubectl } = fakeKubectl();
    const args = ['start', 'v2', '--service', user, '--apply', '--overlay', 'production'];
    expect(canary(root, args, kubectl)).toMatchObject({ status: 0, stderr: '' });
    expect(calls).toEqual([
      `apply -k ${join(root, 'k8s/overlays/production')}`,
      '-n shop rollout status deployment/user-service-v2 --timeout=5m',
    ]);
  });

  it('puts the edited files back when kubectl apply fails, and exits 1', () => {
    const root = copy();
    const { calls, kubectl } = fakeKubectl(() => true);
    const result = canary(root, ['set', '30', '--apply', '--overlay', 'local'], kubectl);
    expect(result.status).toBe(1);
    expect(calls).toEqual([`apply -k ${join(root, 'k8s/overlays/local')}`]);
    expect(result.stderr).toContain('failed (exit 1); mesh/product-service.yaml is back as before');
    expect(result.stderr).toContain(`run kubectl apply -k ${join(root, 'k8s/overlays/local')}`);
    expect(read(root, routesPath(product))).toBe(read(repoRoot, routesPath(product)));
  });

  it('keeps the edit once applied, and says how to undo it, when the rollout wait fails', () => {
    const root = copy();
    addVersion(root, user, 'v1', 'v2');
    const { kubectl } = fakeKubectl((args) => args.includes('rollout'));
    const args = ['start', 'v2', '--service', user, '--apply', '--overlay', 'local'];
    const result = canary(root, args, kubectl);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('The edit stays, and the cluster has it');
    expect(result.stderr).toContain(
      'to undo: npm run canary -- rollback --service user-service --apply --overlay local',
    );
    expect(read(root, versionsPath(user))).toContain('  - v2\n');
  });
});

describe('npm run canary, as a process', () => {
  it('exits 1 and leaves the files as they were when kubectl fails', () => {
    const root = copy();
    const fake = join(root, 'kubectl');
    writeFileSync(fake, `#!/bin/sh\necho "cluster unreachable: $*" >&2\nexit 3\n`);
    chmodSync(fake, 0o755);
    const result = spawnSync(
      join(repoRoot, 'node_modules/.bin/tsx'),
      [
        join(repoRoot, 'scripts/canary.ts'),
        'set',
        '40',
        '--apply',
        '--overlay',
        'local',
        '--root',
        root,
      ],
      { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, KUBECTL: fake } },
    );
    const overlay = join(root, 'k8s/overlays/local');
    expect(result.stdout).toBe(
      'product-service: stable v1 takes 60%, canary v2 takes 40% (and every call with ' +
        `x-canary: true) (deployed: v1, v2)\n$ ${fake} apply -k ${overlay}\n`,
    );
    expect(result.stderr).toContain(`cluster unreachable: apply -k ${overlay}`);
    expect(result.stderr).toContain(
      `canary: kubectl apply -k ${overlay} failed (exit 3); mesh/product-service.yaml is back as before`,
    );
    expect(result.status).toBe(1);
    expect(read(root, routesPath(product))).toBe(read(repoRoot, routesPath(product)));
  });
});
