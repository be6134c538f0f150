// `npm run canary -- <command> [options]`: moves ProductService traffic between
// its stable and canary versions by editing the manifests in place, so the
// repository stays the source of truth and GitOps tools do not fight it.
// Only the values that change are rewritten; comments and layout stay.
//
//   status             versions, weights, and what is deployed
//   start <version>    deploy k8s/base/product-service/<version>/ as the canary:
//                      0% of traffic, reachable with the `x-canary: true` header
//   set <percent>      send <percent>% (0–100) of traffic to the canary
//   promote            once the canary takes 100%: it becomes stable, and the
//                      old stable version is retired
//   rollback           all traffic back to stable; the canary is retired
//
// Options:
//   --apply --overlay <name>  also apply k8s/overlays/<name> with kubectl, and
//                             delete the Deployment of a retired version
//                             (kubectl apply never deletes); KUBECTL overrides
//                             the kubectl binary
//   --root <dir>              the checkout to edit (default: this repository)
//
// State lives in two files: the stable and canary subsets' `version` labels
// and the route weights in mesh/product-service.yaml, and which version
// folders k8s/base/product-service/kustomization.yaml deploys. With no canary
// running, the canary subset points at the stable version.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isMap, isScalar, isSeq, parseAllDocuments, type Scalar } from 'yaml';

class CanaryError extends Error {}

const routesFile = 'mesh/product-service.yaml';
const versionsFile = 'k8s/base/product-service/kustomization.yaml';
/** Where k8s/base puts the shop (its kustomization's `namespace`). */
const namespace = 'shop';
const versionName = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** A YAML file and the text edits to make to it. */
interface Source {
  path: string;
  text: string;
  edits: Edit[];
}

function load(root: string, path: string): Source {
  const file = join(root, path);
  if (!existsSync(file)) throw new CanaryError(`${path} not found under ${root}`);
  return { path, text: readFileSync(file, 'utf8'), edits: [] };
}

function save(root: string, source: Source): void {
  let text = source.text;
  for (const edit of [...source.edits].sort((a, b) => b.start - a.start)) {
    text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  }
  if (text !== source.text) writeFileSync(join(root, source.path), text);
}

function replaceScalar(source: Source, node: Scalar, value: string | number): void {
  const [start, end] = node.range ?? [];
  if (start === undefined || end === undefined) throw new CanaryError(`${source.path}: no range`);
  source.edits.push({ start, end, text: String(value) });
}

function documentOf(source: Source, kind: string, name: string) {
  const doc = parseAllDocuments(source.text).find(
    (d) => !Array.isArray(d) && d.get('kind') === kind && d.getIn(['metadata', 'name']) === name,
  );
  if (!doc || Array.isArray(doc)) throw new CanaryError(`${source.path}: no ${kind} ${name}`);
  return doc;
}

interface State {
  root: string;
  routes: Source;
  versions: Source;
  /** The subsets' `version` label nodes. */
  subset: { stable: Scalar; canary: Scalar };
  /** Weight nodes of every weighted route, by subset. */
  weights: { stable: Scalar; canary: Scalar }[];
  /** Version folders the ProductService kustomization deploys, with their list nodes. */
  deployed: Map<string, Scalar>;
}

function readState(root: string): State {
  const routes = load(root, routesFile);
  const versions = load(root, versionsFile);

  const rule = documentOf(routes, 'DestinationRule', 'product-service');
  const subsetNodes: Partial<Record<string, Scalar>> = {};
  const subsets = rule.getIn(['spec', 'subsets'], true);
  for (const subset of isSeq(subsets) ? subsets.items : []) {
    if (!isMap(subset)) continue;
    const version = subset.getIn(['labels', 'version'], true);
    if (isScalar(version)) subsetNodes[String(subset.get('name'))] = version;
  }
  const { stable, canary } = subsetNodes;
  if (!stable || !canary) {
    throw new CanaryError(`${routesFile}: the DestinationRule needs subsets stable and canary`);
  }

  const weights: State['weights'] = [];
  const http = documentOf(routes, 'VirtualService', 'product-service-routes').getIn(
    ['spec', 'http'],
    true,
  );
  for (const route of isSeq(http) ? http.items : []) {
    const destinations = isMap(route) ? route.get('route', true) : undefined;
    const bySubset: Partial<Record<string, Scalar>> = {};
    for (const destination of isSeq(destinations) ? destinations.items : []) {
      if (!isMap(destination)) continue;
      const weight = destination.get('weight', true);
      const subset = destination.getIn(['destination', 'subset']);
      if (isScalar(weight) && typeof subset === 'string') bySubset[subset] = weight;
    }
    if (bySubset.stable && bySubset.canary) {
      weights.push({ stable: bySubset.stable, canary: bySubset.canary });
    }
  }
  if (weights.length === 0) throw new CanaryError(`${routesFile}: no stable/canary weighted route`);

  const deployed = new Map<string, Scalar>();
  const resources = parseAllDocuments(versions.text)
    .find((d) => !Array.isArray(d))
    ?.get('resources', true);
  for (const item of isSeq(resources) ? resources.items : []) {
    if (
      isScalar(item) &&
      versionName.test(String(item.value)) &&
      isVersionFolder(root, String(item.value))
    ) {
      deployed.set(String(item.value), item);
    }
  }
  return { root, routes, versions, subset: { stable, canary }, weights, deployed };
}

function isVersionFolder(root: string, version: string): boolean {
  return existsSync(join(root, 'k8s/base/product-service', version, 'kustomization.yaml'));
}

const versionOf = (node: Scalar) => String(node.value);
const canaryWeight = (state: State) => Number(state.weights[0]?.canary.value);

/** Refuses to act on manifests that disagree with themselves. */
function checkConsistent(state: State): void {
  const split = state.weights.map((w) => `${w.stable.value}/${w.canary.value}`);
  if (new Set(split).size > 1) {
    throw new CanaryError(
      `${routesFile}: weighted routes disagree (${split.join(', ')}); fix by hand`,
    );
  }
  for (const subset of [state.subset.stable, state.subset.canary]) {
    if (!state.deployed.has(versionOf(subset))) {
      throw new CanaryError(
        `${routesFile} routes to ${versionOf(subset)}, which ${versionsFile} does not deploy`,
      );
    }
  }
}

function setWeights(state: State, canary: number): void {
  for (const w of state.weights) {
    replaceScalar(state.routes, w.stable, 100 - canary);
    replaceScalar(state.routes, w.canary, canary);
  }
}

/** Removes the line that lists `node` from a YAML sequence. */
function removeLine(source: Source, node: Scalar): void {
  const [start] = node.range ?? [];
  if (start === undefined) throw new CanaryError(`${source.path}: no range`);
  const lineStart = source.text.lastIndexOf('\n', start) + 1;
  const next = source.text.indexOf('\n', start);
  source.edits.push({
    start: lineStart,
    end: next === -1 ? source.text.length : next + 1,
    text: '',
  });
}

/** Adds `value` to a YAML sequence after the line that lists `after`, indented alike. */
function addLineAfter(source: Source, after: Scalar, value: string): void {
  const [start] = after.range ?? [];
  if (start === undefined) throw new CanaryError(`${source.path}: no range`);
  const lineStart = source.text.lastIndexOf('\n', start) + 1;
  const next = source.text.indexOf('\n', start);
  const at = next === -1 ? source.text.length : next + 1;
  const prefix = source.text.slice(lineStart, start);
  source.edits.push({ start: at, end: at, text: `${prefix}${value}\n` });
}

function describe(state: State): string {
  const stable = versionOf(state.subset.stable);
  const canary = versionOf(state.subset.canary);
  const deployed = [...state.deployed.keys()].join(', ');
  if (stable === canary) {
    return `no canary: ${stable} is stable and takes all traffic (deployed: ${deployed})`;
  }
  const weight = canaryWeight(state);
  return (
    `stable ${stable} takes ${100 - weight}%, canary ${canary} takes ${weight}% ` +
    `(and every call with x-canary: true) (deployed: ${deployed})`
  );
}

function parsePercent(value: string | undefined): number {
  if (value === undefined) throw new CanaryError('set needs a percentage: canary set 10');
  if (!/^\d{1,3}$/.test(value) || Number(value) > 100) {
    throw new CanaryError(`the canary weight must be a whole number from 0 to 100, got "${value}"`);
  }
  return Number(value);
}

/** What --apply must delete after applying: the Deployment of a retired version. */
interface Outcome {
  retired?: string;
  started?: string;
}

function run(command: string, args: readonly string[], state: State): Outcome {
  const stable = versionOf(state.subset.stable);
  const canary = versionOf(state.subset.canary);
  const running = stable !== canary;
  switch (command) {
    case 'status':
      return {};
    case 'start': {
      const next = args[0];
      if (!next) throw new CanaryError('start needs the version to deploy: canary start v3');
      if (running) {
        throw new CanaryError(`canary ${canary} is already running; promote or roll it back first`);
      }
      if (next === stable) throw new CanaryError(`${next} is the stable version already`);
      if (!versionName.test(next) || !isVersionFolder(state.root, next)) {
        throw new CanaryError(
          `no k8s/base/product-service/${next}/kustomization.yaml: copy an existing version ` +
            `folder, set its version label and image tag, then start it`,
        );
      }
      const last = [...state.deployed.values()].at(-1);
      if (!last) throw new CanaryError(`${versionsFile} deploys no version`);
      addLineAfter(state.versions, last, next);
      replaceScalar(state.routes, state.subset.canary, next);
      setWeights(state, 0);
      return { started: next };
    }
    case 'set': {
      const percent = parsePercent(args[0]);
      if (!running) {
        throw new CanaryError(
          `no canary is running (${stable} takes all traffic): start one first`,
        );
      }
      setWeights(state, percent);
      return {};
    }
    case 'promote': {
      if (!running) throw new CanaryError(`no canary is deployed: nothing to promote`);
      const weight = canaryWeight(state);
      if (weight !== 100) {
        throw new CanaryError(
          `canary ${canary} takes ${weight}% of traffic: shift all of it first ` +
            `(canary set 100), watch it, then promote`,
        );
      }
      replaceScalar(state.routes, state.subset.stable, canary);
      setWeights(state, 0);
      removeLine(state.versions, state.deployed.get(stable) as Scalar);
      return { retired: stable };
    }
    case 'rollback': {
      if (!running) throw new CanaryError(`no canary is running: nothing to roll back`);
      replaceScalar(state.routes, state.subset.canary, stable);
      setWeights(state, 0);
      removeLine(state.versions, state.deployed.get(canary) as Scalar);
      return { retired: canary };
    }
    default:
      throw new CanaryError(
        `unknown command "${command}": use status, start <version>, set <percent>, promote or rollback`,
      );
  }
}

function kubectl(args: readonly string[]): void {
  const binary = process.env.KUBECTL ?? 'kubectl';
  process.stdout.write(`$ ${binary} ${args.join(' ')}\n`);
  const result = spawnSync(binary, args, { stdio: 'inherit' });
  if (result.error) throw new CanaryError(`${binary}: ${result.error.message}`);
  if (result.status !== 0)
    throw new CanaryError(`${binary} ${args[0]} failed (exit ${result.status})`);
}

function main(argv: readonly string[]): void {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      apply: { type: 'boolean', default: false },
      overlay: { type: 'string' },
      root: { type: 'string', default: resolve(import.meta.dirname, '..') },
    },
  });
  const [command = 'status', ...args] = positionals;
  const root = resolve(values.root);
  if (values.apply && !values.overlay) {
    throw new CanaryError(
      '--apply needs --overlay <name> (one of k8s/overlays/), e.g. --overlay local',
    );
  }
  const overlay = values.overlay ? join(root, 'k8s/overlays', values.overlay) : undefined;
  if (overlay && !existsSync(join(overlay, 'kustomization.yaml'))) {
    throw new CanaryError(`no overlay k8s/overlays/${values.overlay}`);
  }

  const state = readState(root);
  checkConsistent(state);
  const outcome = run(command, args, state);
  save(root, state.routes);
  save(root, state.versions);
  const after = readState(root);
  checkConsistent(after);
  process.stdout.write(`product-service: ${describe(after)}\n`);

  const deployment = (v: string) => [
    `deployment/product-service-${v}`,
    `horizontalpodautoscaler/product-service-${v}`,
  ];
  if (!values.apply || !overlay) {
    if (outcome.retired) {
      process.stdout.write(
        `${outcome.retired} is out of the manifests, but kubectl apply does not delete it: run\n` +
          `  kubectl -n ${namespace} delete ${deployment(outcome.retired).join(' ')} --ignore-not-found\n` +
          `after applying (or use --apply --overlay <name>).\n`,
      );
    }
    return;
  }
  kubectl(['apply', '-k', overlay]);
  if (outcome.started) {
    kubectl([
      '-n',
      namespace,
      'rollout',
      'status',
      `deployment/product-service-${outcome.started}`,
      '--timeout=5m',
    ]);
  }
  if (outcome.retired) {
    kubectl(['-n', namespace, 'delete', ...deployment(outcome.retired), '--ignore-not-found']);
  }
}

try {
  main(process.argv.slice(2));
} catch (error) {
  // parseArgs reports a bad option as a TypeError with an ERR_PARSE_ARGS_* code.
  const usage = String((error as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
  if (!(error instanceof CanaryError) && !usage) throw error;
  process.stderr.write(`canary: ${(error as Error).message}\n`);
  process.exit(2);
}
