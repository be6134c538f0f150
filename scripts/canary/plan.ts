// The canary tool's decisions, without touching the disk or the cluster:
// given one service's manifests and a command, the new text of each file it
// changes (edited through the `yaml` Document API, so comments and layout
// stay), or a CanaryError saying why the command makes no sense.
//
// State lives in two files: the stable and canary subsets' `version` labels
// and the route weights in mesh/<service>.yaml, and which version folders
// k8s/base/<service>/kustomization.yaml deploys. With no canary running, the
// canary subset selects the stable version.
import { isSeq } from 'yaml';
import { CanaryError } from './canary-error.js';
import {
  type CanaryState,
  checkConsistent,
  describeState,
  isRunning,
  readState,
} from './canary-state.js';
import { basePath, type ManifestFile, type Manifests } from './manifests.js';
import type { Command } from './parse-command.js';
import { printStream } from './yaml-stream.js';

export interface Plan {
  /** The files whose text changes, with their new text (none for `status`). */
  edits: ManifestFile[];
  /** What the manifests say afterwards, in one line. */
  summary: string;
  /** A version this command deploys: --apply waits for its rollout. */
  started?: string;
  /**
   * A version this command takes out of the manifests: its Deployment must
   * be deleted, which `kubectl apply` never does.
   */
  retired?: string;
}

const versionName = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

function setWeights(state: CanaryState, canary: number): void {
  const routes = state.routes[state.routesIndex];
  for (const w of state.weights) {
    routes?.setIn(w.stable, 100 - canary);
    routes?.setIn(w.canary, canary);
  }
}

function setSubset(state: CanaryState, subset: 'stable' | 'canary', version: string): void {
  state.routes[state.ruleIndex]?.setIn(state[subset].path, version);
}

function undeploy(state: CanaryState, version: string): void {
  const entry = state.deployed.find((d) => d.version === version);
  if (entry) state.versions.deleteIn(['resources', entry.index]);
}

/** Lists `version` in `resources` right after the last deployed version. */
function deploy(state: CanaryState, version: string): void {
  const resources = state.versions.get('resources', true);
  const last = state.deployed.at(-1);
  if (!isSeq(resources) || !last) {
    throw new CanaryError(`${state.manifests.versions.path} deploys no version`);
  }
  resources.items.splice(last.index + 1, 0, state.versions.createNode(version));
}

/** Edits `state`'s documents for the command; returns what --apply must also do. */
function edit(state: CanaryState, command: Command): Pick<Plan, 'started' | 'retired'> {
  const stable = state.stable.version;
  const canary = state.canary.version;
  const running = isRunning(state);
  switch (command.name) {
    case 'status':
      return {};
    case 'start': {
      const next = command.version;
      if (running) {
        throw new CanaryError(`canary ${canary} is already running; promote or roll it back first`);
      }
      if (next === stable) throw new CanaryError(`${next} is the stable version already`);
      if (!versionName.test(next) || !state.manifests.versionFolders.includes(next)) {
        throw new CanaryError(
          `no ${basePath(state.manifests.service)}/${next}/kustomization.yaml that runs ` +
            `../workload: copy an existing version folder, set its version label, name ` +
            `suffix and image tag, then start it`,
        );
      }
      deploy(state, next);
      setSubset(state, 'canary', next);
      setWeights(state, 0);
      return { started: next };
    }
    case 'set':
      if (!running) {
        throw new CanaryError(
          `no canary is running (${stable} takes all traffic): start one first`,
        );
      }
      setWeights(state, command.percent);
      return {};
    case 'promote':
      if (!running) throw new CanaryError('no canary is deployed: nothing to promote');
      if (state.canaryWeight !== 100) {
        throw new CanaryError(
          `canary ${canary} takes ${state.canaryWeight}% of traffic: shift all of it first ` +
            `(canary set 100), watch it, then promote`,
        );
      }
      setSubset(state, 'stable', canary);
      setWeights(state, 0);
      undeploy(state, stable);
      return { retired: stable };
    case 'rollback':
      if (!running) throw new CanaryError('no canary is running: nothing to roll back');
      setSubset(state, 'canary', stable);
      setWeights(state, 0);
      undeploy(state, canary);
      return { retired: canary };
  }
}

/**
 * What `command` does to `manifests`. Refuses (throws CanaryError) when the
 * manifests disagree with themselves, before or after the edit, or when the
 * command makes no sense in the state they describe.
 */
export function plan(manifests: Manifests, command: Command): Plan {
  const state = readState(manifests);
  checkConsistent(state);
  const outcome = edit(state, command);

  const after = { ...manifests };
  const edits: ManifestFile[] = [];
  for (const [key, documents] of [
    ['routes', state.routes],
    ['versions', [state.versions]],
  ] as const) {
    const text = printStream(documents);
    if (text === manifests[key].text) continue;
    after[key] = { path: manifests[key].path, text };
    edits.push(after[key]);
  }
  const result = readState(after);
  checkConsistent(result);
  return { edits, summary: describeState(result), ...outcome };
}
