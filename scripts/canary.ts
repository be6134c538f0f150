// `npm run canary -- <command> [options]`: moves a service's traffic between
// its stable and canary versions by editing the manifests in place, so the
// repository stays the source of truth and GitOps tools do not fight it.
// The files are edited as YAML documents: only the values that change are
// rewritten; comments and layout stay.
//
//   status             versions, weights, and what is deployed
//   start <version>    deploy k8s/base/<service>/<version>/ as the canary:
//                      0% of traffic, reachable with the `x-canary: true` header
//   set <percent>      send <percent>% (0–100) of traffic to the canary
//   promote            once the canary takes 100%: it becomes stable, and the
//                      old stable version is retired
//   rollback           all traffic back to stable; the canary is retired
//
// Options:
//   --service <name>          user-service or product-service (the default)
//   --apply --overlay <name>  also apply k8s/overlays/<name> with kubectl, and
//                             delete the Deployment of a retired version
//                             (kubectl apply never deletes); KUBECTL overrides
//                             the kubectl binary. If `kubectl apply` fails, the
//                             edited files are put back as they were.
//   --root <dir>              the checkout to edit (default: this repository)
//
// Exit code 2: refused (nothing written); 1: kubectl failed. The decisions
// are in canary/plan.ts, the CLI in canary/run-canary.ts.
//
// For a service released by Argo Rollouts (docs/progressive-delivery.md),
// which edits nothing and reads the cluster (canary/run-rollout.ts):
//   status --rollout   the Rollout's phase, step, weights and latest analysis
//   watch              the same every 2 s, until Healthy, Degraded or aborted
//   (--namespace, --kubeconfig, --context; exit 3: the rollout failed)
import { resolve } from 'node:path';
import { runKubectl } from './canary/kubectl.js';
import { runCanary } from './canary/run-canary.js';
import { defaultRolloutIo, isRolloutCommand, runRollout } from './canary/run-rollout.js';

const argv = process.argv.slice(2);
process.exitCode = isRolloutCommand(argv)
  ? await runRollout(argv, defaultRolloutIo)
  : runCanary(argv, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      kubectl: runKubectl,
      defaultRoot: resolve(import.meta.dirname, '..'),
    });
