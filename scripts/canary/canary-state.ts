// What one service's manifests say about its release: which versions the
// stable and canary subsets select, how the weighted routes split traffic,
// and which version folders are deployed. Read from the parsed Documents,
// with the path to every node that a plan may edit.
import { type Document, isMap, isScalar, isSeq } from 'yaml';
import { CanaryError } from './canary-error.js';
import type { Manifests } from './manifests.js';
import { parseStream } from './yaml-stream.js';

/** A path for Document.getIn / setIn. */
export type NodePath = (string | number)[];

export interface Subset {
  version: string;
  /** Path of its `labels.version` in the DestinationRule document. */
  path: NodePath;
}

export interface CanaryState {
  manifests: Manifests;
  /** mesh/<service>.yaml, every document. */
  routes: Document.Parsed[];
  /** Index in `routes` of the DestinationRule, and of the `<service>-routes` VirtualService. */
  ruleIndex: number;
  routesIndex: number;
  stable: Subset;
  canary: Subset;
  /** Paths (in the routes VirtualService) of the weights of every weighted route. */
  weights: { stable: NodePath; canary: NodePath; split: string }[];
  /** The canary's share, from the first weighted route. */
  canaryWeight: number;
  /** k8s/base/<service>/kustomization.yaml. */
  versions: Document.Parsed;
  /** Deployed version folders, in the order `resources` lists them, with their index there. */
  deployed: { version: string; index: number }[];
}

function indexOf(documents: Document.Parsed[], path: string, kind: string, name: string): number {
  const index = documents.findIndex(
    (d) => d.get('kind') === kind && d.getIn(['metadata', 'name']) === name,
  );
  if (index === -1) throw new CanaryError(`${path}: no ${kind} ${name}`);
  return index;
}

export function readState(manifests: Manifests): CanaryState {
  const { service } = manifests;
  const routesFile = manifests.routes.path;
  const routes = parseStream(manifests.routes.text, routesFile);

  const ruleIndex = indexOf(routes, routesFile, 'DestinationRule', service);
  const subsets: Partial<Record<string, Subset>> = {};
  const subsetList = routes[ruleIndex]?.getIn(['spec', 'subsets'], true);
  (isSeq(subsetList) ? subsetList.items : []).forEach((subset, i) => {
    if (!isMap(subset)) return;
    const version = subset.getIn(['labels', 'version'], true);
    if (isScalar(version) && typeof version.value === 'string') {
      subsets[String(subset.get('name'))] = {
        version: version.value,
        path: ['spec', 'subsets', i, 'labels', 'version'],
      };
    }
  });
  const { stable, canary } = subsets;
  if (!stable || !canary) {
    throw new CanaryError(`${routesFile}: the DestinationRule needs subsets stable and canary`);
  }

  const routesIndex = indexOf(routes, routesFile, 'VirtualService', `${service}-routes`);
  const weights: CanaryState['weights'] = [];
  const http = routes[routesIndex]?.getIn(['spec', 'http'], true);
  (isSeq(http) ? http.items : []).forEach((route, i) => {
    const destinations = isMap(route) ? route.get('route', true) : undefined;
    const bySubset: Partial<Record<string, { path: NodePath; value: unknown }>> = {};
    (isSeq(destinations) ? destinations.items : []).forEach((destination, j) => {
      if (!isMap(destination)) return;
      const weight = destination.get('weight', true);
      const subset = destination.getIn(['destination', 'subset']);
      if (isScalar(weight) && typeof subset === 'string') {
        bySubset[subset] = { path: ['spec', 'http', i, 'route', j, 'weight'], value: weight.value };
      }
    });
    if (bySubset.stable && bySubset.canary) {
      weights.push({
        stable: bySubset.stable.path,
        canary: bySubset.canary.path,
        split: `${bySubset.stable.value}/${bySubset.canary.value}`,
      });
    }
  });
  const [first] = weights;
  if (!first) throw new CanaryError(`${routesFile}: no stable/canary weighted route`);
  const canaryWeight = Number(routes[routesIndex]?.getIn(first.canary));

  const [versions] = parseStream(manifests.versions.text, manifests.versions.path);
  if (!versions) throw new CanaryError(`${manifests.versions.path} is empty`);
  const resources = versions.get('resources', true);
  const deployed: CanaryState['deployed'] = [];
  (isSeq(resources) ? resources.items : []).forEach((item, index) => {
    const value = isScalar(item) ? item.value : undefined;
    if (typeof value === 'string' && manifests.versionFolders.includes(value)) {
      deployed.push({ version: value, index });
    }
  });

  return {
    manifests,
    routes,
    ruleIndex,
    routesIndex,
    stable,
    canary,
    weights,
    canaryWeight,
    versions,
    deployed,
  };
}

export const isRunning = (state: CanaryState) => state.stable.version !== state.canary.version;

/** Refuses to act on manifests that disagree with themselves. */
export function checkConsistent(state: CanaryState): void {
  const { routes, versions } = state.manifests;
  const splits = state.weights.map((w) => w.split);
  if (new Set(splits).size > 1) {
    throw new CanaryError(
      `${routes.path}: weighted routes disagree (${splits.join(', ')}); fix by hand`,
    );
  }
  const total = splits[0]?.split('/').reduce((sum, w) => sum + Number(w), 0);
  if (total !== 100) {
    throw new CanaryError(`${routes.path}: weights add up to ${total}, not 100; fix by hand`);
  }
  for (const { version } of [state.stable, state.canary]) {
    if (!state.deployed.some((d) => d.version === version)) {
      throw new CanaryError(
        `${routes.path} routes to ${version}, which ${versions.path} does not deploy`,
      );
    }
  }
}

/** One line: who takes what, and what is deployed. */
export function describeState(state: CanaryState): string {
  const stable = state.stable.version;
  const canary = state.canary.version;
  const deployed = state.deployed.map((d) => d.version).join(', ');
  if (stable === canary) {
    return `no canary: ${stable} is stable and takes all traffic (deployed: ${deployed})`;
  }
  const weight = state.canaryWeight;
  return (
    `stable ${stable} takes ${100 - weight}%, canary ${canary} takes ${weight}% ` +
    `(and every call with x-canary: true) (deployed: ${deployed})`
  );
}
