// The pinned validators (tools/istioctl, tools/kubeconform), built into
// .tools/bin by scripts/install-tools.sh from the test global setup.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { get, list, parseObjects, type Rendered, repoRoot, text } from './manifests.js';

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function toolPath(name: 'istioctl' | 'kubeconform'): string {
  const path = join(repoRoot, '.tools/bin', name);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run scripts/install-tools.sh ${name} (it pins the build)`);
  }
  return path;
}

export function run(command: string, args: readonly string[], cwd = repoRoot): Run {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export const istioInstallFile = join(repoRoot, 'mesh/istio-install.yaml');

/**
 * The install settings an overlay is deployed with: mesh/istio-install.yaml,
 * then mesh/istio-install-<overlay>.yaml when there is one (istioctl overlays
 * `-f` files left to right).
 */
export function istioInstallFiles(overlay?: string): string[] {
  const extra = overlay && join(repoRoot, `mesh/istio-install-${overlay}.yaml`);
  if (extra && existsSync(extra)) return [istioInstallFile, extra];
  const base = overlay && baseOverlay(overlay);
  return base ? istioInstallFiles(base) : [istioInstallFile];
}

/**
 * An overlay and the overlays it is built on, nearest first:
 * `lab-progressive` is `['lab-progressive', 'lab']`. An overlay built on
 * another is deployed like it (its Istio settings, the lab's token issuer).
 */
export function overlayLineage(overlay: string): string[] {
  const base = baseOverlay(overlay);
  return base ? [overlay, ...overlayLineage(base)] : [overlay];
}

/**
 * The overlay another overlay is built on (`resources: [../production]`,
 * as k8s/overlays/progressive is); undefined for an overlay built on the base.
 */
function baseOverlay(overlay: string): string | undefined {
  const overlays = join(repoRoot, 'k8s/overlays');
  const file = join(overlays, overlay, 'kustomization.yaml');
  if (!existsSync(file)) return undefined;
  return list(parse(readFileSync(file, 'utf8')), 'resources')
    .map((resource) => /^\.\.\/([\w.-]+)\/?$/.exec(String(resource))?.[1])
    .find((name) => name && existsSync(join(overlays, name, 'kustomization.yaml')));
}

const installs = new Map<string, Rendered>();

/**
 * What `istioctl install -f mesh/istio-install.yaml [-f …-<overlay>.yaml]`
 * would apply: Istio's CRDs, istiod with its mesh config, and the ingress
 * gateway, rendered offline by the pinned istioctl.
 */
export function istioInstall(overlay?: string): Rendered {
  const files = istioInstallFiles(overlay);
  const key = files.join('\n');
  let install = installs.get(key);
  if (!install) {
    const result = run(toolPath('istioctl'), [
      'manifest',
      'generate',
      ...files.flatMap((file) => ['-f', file]),
    ]);
    if (result.status !== 0) throw new Error(`istioctl manifest generate: ${result.stderr}`);
    install = { yaml: result.stdout, objects: parseObjects(result.stdout) };
    installs.set(key, install);
  }
  return install;
}

/** The mesh config istiod gets from that install (its `istio` ConfigMap). */
export function installedMeshConfig(overlay?: string): unknown {
  const configMap = istioInstall(overlay).objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio',
  );
  const mesh = text(configMap, 'data', 'mesh');
  if (!mesh) throw new Error('no mesh config in the Istio install manifest');
  return parse(mesh);
}

/** The install file's `meshConfig`, as a file for `istioctl analyze --meshConfigFile`. */
export function writeMeshConfig(file: string): string {
  const operator = parse(readFileSync(istioInstallFile, 'utf8')) as unknown;
  writeFileSync(file, stringify(get(operator, 'spec', 'meshConfig')));
  return file;
}
