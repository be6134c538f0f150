// What `--apply --overlay <name>` runs after a plan is written, as kubectl
// argument lists: apply the overlay, wait for a started version, delete a
// retired one (kubectl apply never deletes).
import { namespace, type ServiceName } from './manifests.js';
import type { Plan } from './plan.js';

export interface ApplyStep {
  /** `apply` makes the cluster match the files; the others follow from it. */
  kind: 'apply' | 'rollout' | 'delete';
  args: string[];
}

/** The objects a retired version leaves in the cluster. */
export const retiredObjects = (service: ServiceName, version: string) => [
  `deployment/${service}-${version}`,
  `horizontalpodautoscaler/${service}-${version}`,
];

export const deleteArgs = (service: ServiceName, version: string) => [
  '-n',
  namespace,
  'delete',
  ...retiredObjects(service, version),
  '--ignore-not-found',
];

export function applySteps(plan: Plan, service: ServiceName, overlayDir: string): ApplyStep[] {
  const steps: ApplyStep[] = [{ kind: 'apply', args: ['apply', '-k', overlayDir] }];
  if (plan.started) {
    steps.push({
      kind: 'rollout',
      args: [
        '-n',
        namespace,
        'rollout',
        'status',
        `deployment/${service}-${plan.started}`,
        '--timeout=5m',
      ],
    });
  }
  if (plan.retired) steps.push({ kind: 'delete', args: deleteArgs(service, plan.retired) });
  return steps;
}
