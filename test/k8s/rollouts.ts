// Argo Rollouts in the rendered manifests (k8s/components/progressive/):
// the CRDs of the pinned release, for kubeconform, and the checks no schema
// does: what a Rollout names (its workload, VirtualService routes,
// DestinationRule subsets, analysis templates and their args) exists and
// fits together. Field meanings are the controller's
// (rollout/trafficrouting/istio/istio.go and utils/analysis of the release
// that tools/argo-rollouts pins).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { argoRolloutsCrdsDir } from '../../scripts/lib/argo-rollouts-module.js';
import {
  get,
  isObject,
  type K8sObject,
  labels,
  list,
  ofKind,
  parseObjects,
  selects,
  text,
} from './manifests.js';

let crds: K8sObject[] | undefined;

/** The CustomResourceDefinitions in the pinned module's manifests/crds/ (parsed once). */
export function argoRolloutsCrds(): K8sObject[] {
  if (!crds) {
    const dir = argoRolloutsCrdsDir();
    crds = readdirSync(dir)
      .filter((file) => file.endsWith('-crd.yaml'))
      .flatMap((file) => parseObjects(readFileSync(join(dir, file), 'utf8')))
      .filter((o) => o.kind === 'CustomResourceDefinition');
  }
  return crds;
}

const inNamespace = (objects: readonly K8sObject[], kind: string, namespace: string) =>
  ofKind(objects, kind).filter((o) => (o.metadata.namespace ?? 'default') === namespace);

const find = (objects: readonly K8sObject[], kind: string, namespace: string, name?: string) =>
  inNamespace(objects, kind, namespace).find((o) => o.metadata.name === name);

/** `namespace/name` of each DestinationRule a Rollout's Istio traffic routing manages. */
export function rolloutManagedDestinationRules(objects: readonly K8sObject[]): Set<string> {
  return new Set(
    ofKind(objects, 'Rollout').flatMap((rollout) => {
      const name = text(rollout, ...istio, 'destinationRule', 'name');
      return name ? [`${rollout.metadata.namespace ?? 'default'}/${name}`] : [];
    }),
  );
}

const istio = ['spec', 'strategy', 'canary', 'trafficRouting', 'istio'];

/** The VirtualServices a Rollout names: `virtualService` or `virtualServices`. */
function namedVirtualServices(rollout: K8sObject): unknown[] {
  const one = get(rollout, ...istio, 'virtualService');
  return [...(isObject(one) ? [one] : []), ...list(rollout, ...istio, 'virtualServices')];
}

/** The workload a Rollout takes its pod template from, checked. */
function workloadRefProblems(rollout: K8sObject, objects: readonly K8sObject[]): string[] {
  const where = `Rollout ${rollout.metadata.name}`;
  const namespace = rollout.metadata.namespace ?? 'default';
  const ref = get(rollout, 'spec', 'workloadRef');
  if (!isObject(ref)) {
    return get(rollout, 'spec', 'template') === undefined
      ? [`${where}: neither a template nor a workloadRef`]
      : [];
  }
  if (text(ref, 'kind') !== 'Deployment' || text(ref, 'apiVersion') !== 'apps/v1') {
    return [`${where}: workloadRef is not an apps/v1 Deployment`];
  }
  const deployment = find(objects, 'Deployment', namespace, text(ref, 'name'));
  if (!deployment) return [`${where}: workloadRef names no Deployment ${text(ref, 'name')}`];
  const name = `Deployment ${deployment.metadata.name}`;
  const problems: string[] = [];
  if (get(deployment, 'spec', 'replicas') !== 0) {
    problems.push(`${name}: runs pods of its own; the Rollout's workload must be at 0 replicas`);
  }
  const selector = labels(deployment, 'spec', 'selector', 'matchLabels');
  const template = labels(deployment, 'spec', 'template', 'metadata', 'labels');
  if ('version' in selector) {
    problems.push(
      `${name}: selects on version, so a release (a new version label) would not match it`,
    );
  }
  if (!template.version) problems.push(`${name}: pods have no version label (the release)`);
  const scaler = ofKind(objects, 'HorizontalPodAutoscaler').find(
    (hpa) =>
      (hpa.metadata.namespace ?? 'default') === namespace &&
      text(hpa, 'spec', 'scaleTargetRef', 'kind') === 'Deployment' &&
      text(hpa, 'spec', 'scaleTargetRef', 'name') === deployment.metadata.name,
  );
  if (scaler) {
    problems.push(`HorizontalPodAutoscaler ${scaler.metadata.name} scales ${name} up from 0`);
  }
  for (const other of inNamespace(objects, 'Deployment', namespace)) {
    if (other === deployment || get(other, 'spec', 'replicas') === 0) continue;
    if (selects(selector, labels(other, 'spec', 'template', 'metadata', 'labels'))) {
      problems.push(
        `Deployment ${other.metadata.name}: runs pods the Rollout's selector selects (its own, ` +
          `outside the canary)`,
      );
    }
  }
  return problems;
}

/**
 * The Istio traffic routing: the DestinationRule exists with both subsets,
 * which select on no version label (the controller adds the pod template
 * hash to them; a version label left there would keep a new release out of
 * the canary subset); every named route exists in the VirtualService and
 * has exactly two destinations, the stable and the canary subset of the
 * DestinationRule's host (what ValidateHTTPRoutes demands).
 */
function trafficProblems(rollout: K8sObject, objects: readonly K8sObject[]): string[] {
  const where = `Rollout ${rollout.metadata.name}`;
  const namespace = rollout.metadata.namespace ?? 'default';
  const problems: string[] = [];
  const drName = text(rollout, ...istio, 'destinationRule', 'name');
  const stable = text(rollout, ...istio, 'destinationRule', 'stableSubsetName');
  const canary = text(rollout, ...istio, 'destinationRule', 'canarySubsetName');
  if (!drName || !stable || !canary) {
    return [`${where}: no Istio destinationRule with stable and canary subset names`];
  }
  const rule = find(objects, 'DestinationRule', namespace, drName);
  if (!rule) return [`${where}: no DestinationRule ${drName} in ${namespace}`];
  const host = text(rule, 'spec', 'host');
  for (const subsetName of [stable, canary]) {
    const subset = list(rule, 'spec', 'subsets').find((s) => text(s, 'name') === subsetName);
    if (!subset) problems.push(`DestinationRule ${drName}: no subset ${subsetName}`);
    else if (text(subset, 'labels', 'version') !== undefined) {
      problems.push(
        `DestinationRule ${drName} subset ${subsetName}: selects a version label, but ` +
          `${where} manages its labels (rollouts-pod-template-hash)`,
      );
    }
  }
  const services = namedVirtualServices(rollout);
  if (services.length === 0) problems.push(`${where}: names no VirtualService`);
  for (const ref of services) {
    const [vsName, vsNamespace = namespace] = (text(ref, 'name') ?? '').split('.');
    const vs = find(objects, 'VirtualService', vsNamespace, vsName);
    if (!vs) {
      problems.push(`${where}: no VirtualService ${vsName} in ${vsNamespace}`);
      continue;
    }
    const routes = list(ref, 'routes').map(String);
    if (routes.length === 0) {
      problems.push(`${where}: names no routes of ${vsName} (it would need exactly one route)`);
    }
    for (const routeName of routes) {
      const route = list(vs, 'spec', 'http').find((r) => text(r, 'name') === routeName);
      if (!route) {
        problems.push(`${where}: VirtualService ${vsName} has no route ${routeName}`);
        continue;
      }
      const destinations = list(route, 'route');
      const subsets = destinations.map((d) => text(d, 'destination', 'subset'));
      const hosts = new Set(destinations.map((d) => text(d, 'destination', 'host')));
      if (
        destinations.length !== 2 ||
        !subsets.includes(stable) ||
        !subsets.includes(canary) ||
        hosts.size !== 1 ||
        !hosts.has(host)
      ) {
        problems.push(
          `${where}: route ${routeName} of ${vsName} must go to exactly the ${stable} and ` +
            `${canary} subsets of ${host}, goes to ${JSON.stringify(subsets)} of ${[...hosts]}`,
        );
      }
    }
  }
  return problems;
}

/** `{{args.name}}` placeholders in a value (a metric, once serialized). */
const placeholders = (value: unknown) =>
  [...JSON.stringify(value).matchAll(/\{\{\s*args\.([\w-]+)\s*\}\}/g)].map((m) => m[1] ?? '');

/**
 * Every AnalysisTemplate: the args its metrics use are declared, and each
 * metric's successCondition asks for a result before it reads one (no data
 * must fail the measurement, not pass or error) unless the template is not
 * used by any Rollout (the stock check kept to show its weakness).
 */
export function analysisTemplateProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const used = new Set(
    ofKind(objects, 'Rollout').flatMap((rollout) =>
      list(rollout, 'spec', 'strategy', 'canary', 'steps').flatMap((step) =>
        list(step, 'analysis', 'templates').map((t) => text(t, 'templateName')),
      ),
    ),
  );
  for (const template of ofKind(objects, 'AnalysisTemplate')) {
    const name = `AnalysisTemplate ${template.metadata.name}`;
    const declared = new Set(list(template, 'spec', 'args').map((a) => text(a, 'name')));
    for (const metric of list(template, 'spec', 'metrics')) {
      for (const arg of new Set(placeholders(metric))) {
        if (!declared.has(arg)) {
          problems.push(`${name} metric ${text(metric, 'name')}: uses undeclared arg ${arg}`);
        }
      }
      const condition = text(metric, 'successCondition') ?? '';
      if (used.has(template.metadata.name) && !/^len\(result\) == 1 && /.test(condition)) {
        problems.push(
          `${name} metric ${text(metric, 'name')}: successCondition must start with ` +
            `"len(result) == 1 && " so that no data fails`,
        );
      }
    }
  }
  return problems;
}

/** Each analysis step names templates that exist and gives them every arg they lack. */
function analysisStepProblems(rollout: K8sObject, objects: readonly K8sObject[]): string[] {
  const where = `Rollout ${rollout.metadata.name}`;
  const namespace = rollout.metadata.namespace ?? 'default';
  const problems: string[] = [];
  const steps = list(rollout, 'spec', 'strategy', 'canary', 'steps');
  steps.forEach((step, index) => {
    const analysis = get(step, 'analysis');
    if (!isObject(analysis)) return;
    const given = new Set(list(analysis, 'args').map((a) => text(a, 'name')));
    const declared = new Set<string | undefined>();
    for (const ref of list(analysis, 'templates')) {
      const templateName = text(ref, 'templateName');
      const template = get(ref, 'clusterScope')
        ? ofKind(objects, 'ClusterAnalysisTemplate').find((t) => t.metadata.name === templateName)
        : find(objects, 'AnalysisTemplate', namespace, templateName);
      if (!template) {
        problems.push(`${where} step ${index}: no AnalysisTemplate ${templateName}`);
        continue;
      }
      for (const arg of list(template, 'spec', 'args')) {
        declared.add(text(arg, 'name'));
        if (get(arg, 'value') === undefined && get(arg, 'valueFrom') === undefined) {
          if (!given.has(text(arg, 'name'))) {
            problems.push(
              `${where} step ${index}: ${templateName} needs arg ${text(arg, 'name')}, not given`,
            );
          }
        }
      }
    }
    for (const arg of given) {
      if (!declared.has(arg)) problems.push(`${where} step ${index}: passes unknown arg ${arg}`);
    }
  });
  const weights = steps.map((s) => get(s, 'setWeight')).filter((w) => typeof w === 'number');
  if (weights.at(-1) !== 100) problems.push(`${where}: the last setWeight is not 100`);
  return problems;
}

/** Everything above, for every Rollout in the rendered objects. */
export function progressiveProblems(objects: readonly K8sObject[]): string[] {
  return [
    ...ofKind(objects, 'Rollout').flatMap((rollout) => [
      ...workloadRefProblems(rollout, objects),
      ...trafficProblems(rollout, objects),
      ...analysisStepProblems(rollout, objects),
    ]),
    ...analysisTemplateProblems(objects),
  ];
}
