// The Argo Rollouts Go module that tools/argo-rollouts/go.mod pins, as the Go
// module cache holds it: the controller is built from it
// (scripts/install-tools.sh argo-rollouts), and its CRDs are read from it,
// never copied into the repository. One pin, for the lab and for test/k8s.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repo } from './child-process.js';

export const argoRolloutsModule = 'github.com/argoproj/argo-rollouts';

/** The module that pins the controller (its go.mod and go.sum). */
export const argoRolloutsToolDir = join(repo, 'tools/argo-rollouts');

export interface ModuleInfo {
  version: string;
  dir: string;
}

/**
 * Downloads the pinned version into the module cache (a no-op once there;
 * verified against tools/argo-rollouts/go.sum and Go's checksum database)
 * and returns where it is. Run inside tools/argo-rollouts, so the version is
 * the one its go.mod requires, never a second copy of the pin.
 */
export function argoRolloutsModuleInfo(): ModuleInfo {
  const out = execFileSync('go', ['mod', 'download', '-json', argoRolloutsModule], {
    cwd: argoRolloutsToolDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const info = JSON.parse(out) as { Version?: string; Dir?: string; Error?: string };
  if (info.Error || !info.Dir || !info.Version) {
    throw new Error(`go mod download ${argoRolloutsModule} (tools/argo-rollouts): ${info.Error}`);
  }
  return { version: info.Version, dir: info.Dir };
}

/**
 * The folder of the module's CustomResourceDefinitions (Rollout,
 * AnalysisTemplate, AnalysisRun, ClusterAnalysisTemplate, Experiment) with
 * its kustomization.yaml: `kubectl apply --server-side -k <folder>` (each
 * CRD is over 256 KiB, too big for client-side apply's annotation).
 */
export function argoRolloutsCrdsDir(): string {
  return join(argoRolloutsModuleInfo().dir, 'manifests/crds');
}
