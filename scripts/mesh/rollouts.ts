// The Argo Rollouts controller for the lab's progressive delivery (issue 10,
// docs/progressive-delivery.md): the real rollouts-controller, built from
// the module tools/argo-rollouts/go.mod pins, on the host (like istiod)
// against the lab's API server. Its CRDs come from the same module.
//
// Order in the lab: apply the CRDs (rolloutsCrds()), start the controller,
// then apply k8s/overlays/lab-progressive (the controller only acts on a
// Rollout once it runs; a Rollout applied before waits for it).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { argoRolloutsCrdsDir } from '../lib/argo-rollouts-module.js';
import { kubeconfigPath, ports, stateDir, tool } from './lab.js';
import { type Started, start } from './processes.js';

/** The namespace the controller watches: the shop's, where the Rollout is. */
export const rolloutsNamespace = 'shop';

/**
 * The folder of the pinned release's CRDs, to apply with
 * `kubectl apply --server-side -k <folder>` (server-side: each CRD is over
 * the 256 KiB a client-side apply can record). Downloads the module into
 * the Go module cache first if it is not there (seconds).
 */
export function rolloutsCrds(): string {
  return argoRolloutsCrdsDir();
}

/**
 * rollouts-controller on the host. Namespaced to `shop`: the lab runs one
 * Rollout, and watching one namespace's ReplicaSets, Services, Jobs and
 * Istio objects (not the whole cluster's) is less work for the lab's two
 * cores; a cluster install would run it cluster-wide. Flags, from
 * cmd/rollouts-controller/main.go of the pinned release:
 * - --leader-elect=false: one instance, so no Lease to take, and a restarted
 *   controller does not wait out its predecessor's lease;
 * - --istio-api-version=v1: the API version mesh/ writes (default v1alpha3);
 * - --rollout-resync=60: a full resync every minute (default 15), a safety
 *   net only, since every change to a Rollout, ReplicaSet, VirtualService or
 *   AnalysisRun is acted on at once;
 * - the metrics (:28090) and /healthz (:28080) ports: the controller binds
 *   them on 0.0.0.0 (no flag takes an address), so they are not loopback
 *   only; they serve read-only figures.
 * POD_NAMESPACE is where it looks for its notification settings (none here):
 * the same namespace, not a missing `argo-rollouts`.
 */
export function startRolloutsController(): Started {
  const cwd = join(stateDir, 'argo-rollouts');
  mkdirSync(cwd, { recursive: true });
  return start(
    'rollouts-controller',
    tool('rollouts-controller'),
    [
      `--kubeconfig=${kubeconfigPath}`,
      '--namespaced',
      `--namespace=${rolloutsNamespace}`,
      '--leader-elect=false',
      '--istio-api-version=v1',
      '--rollout-resync=60',
      `--metricsPort=${ports.rolloutsMetrics}`,
      `--healthzPort=${ports.rolloutsHealthz}`,
      '--loglevel=info',
      '--logformat=text',
    ],
    {
      cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: stateDir,
        POD_NAMESPACE: rolloutsNamespace,
      },
    },
  );
}

/** The controller's health endpoint (answers "ok" once it runs). */
export const rolloutsHealthzUrl = `http://127.0.0.1:${ports.rolloutsHealthz}/healthz`;
