// Renders the kustomize overlays the way `kubectl apply -k` would and gives
// the tests typed access to the objects they check.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const repoRoot = resolve(import.meta.dirname, '../..');

/** The fields of a Kubernetes object these tests read; the rest stays `unknown`. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
  [field: string]: unknown;
}

export interface Rendered {
  /** The YAML stream, as `kubectl kustomize` printed it. */
  yaml: string;
  objects: K8sObject[];
}

/** Every folder under k8s/overlays/ with a kustomization: each must render and validate. */
export function overlayNames(root = repoRoot): string[] {
  const dir = join(root, 'k8s/overlays');
  return readdirSync(dir, { withFileTypes: true })
    .filter(
      (entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'kustomization.yaml')),
    )
    .map((entry) => entry.name)
    .sort();
}

/** `kubectl kustomize <dir>` (kustomize v5, built into kubectl), parsed. */
export function render(dir: string): Rendered {
  let yaml: string;
  try {
    yaml = execFileSync('kubectl', ['kustomize', dir], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') {
      throw new Error('kubectl not found: install kubectl 1.32 or later (it renders the overlays)');
    }
    throw error;
  }
  return { yaml, objects: parseObjects(yaml) };
}

export function renderOverlay(name: string, root = repoRoot): Rendered {
  return render(join(root, 'k8s/overlays', name));
}

/**
 * Overlay `overlay` with the opt-in component `component` (paths under
 * k8s/), as a user's own kustomization in `dir` would add it, rendered.
 */
export function renderWithComponent(dir: string, overlay: string, component: string): Rendered {
  mkdirSync(dir, { recursive: true });
  // Paths relative: kustomize refuses absolute ones.
  const from = (path: string) => relative(dir, join(repoRoot, 'k8s', path));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${from(overlay)}]`,
      `components: [${from(component)}]`,
      '',
    ].join('\n'),
  );
  return render(dir);
}

export function parseObjects(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((doc) => {
      if (doc.errors.length > 0) throw doc.errors[0];
      return doc.toJS() as unknown;
    })
    .filter((value): value is K8sObject => isObject(value) && typeof value.kind === 'string');
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function named(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found;
}

/** Reads a nested field (`get(o, 'spec', 'template', 'spec')`), undefined when any step is missing. */
export function get(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (Array.isArray(current) && typeof key === 'number') current = current[key];
    else if (isObject(current) && typeof key === 'string') current = current[key];
    else return undefined;
  }
  return current;
}

export function list(value: unknown, ...path: (string | number)[]): unknown[] {
  const found = get(value, ...path);
  return Array.isArray(found) ? found : [];
}

export function text(value: unknown, ...path: (string | number)[]): string | undefined {
  const found = get(value, ...path);
  return typeof found === 'string' ? found : undefined;
}

export function labels(value: unknown, ...path: string[]): Record<string, string> {
  const found = get(value, ...path);
  return isObject(found) ? (found as Record<string, string>) : {};
}

/** True when every selector label is on the object (an empty selector selects nothing here). */
export function selects(selector: Record<string, string>, on: Record<string, string>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([key, value]) => on[key] === value);
}
