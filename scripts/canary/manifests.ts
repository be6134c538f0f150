// The files the canary tool reads and edits, for either service, and the
// only part of it that touches the disk.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CanaryError } from './canary-error.js';
import { parseStream } from './yaml-stream.js';

export const services = ['user-service', 'product-service'] as const;
export type ServiceName = (typeof services)[number];

export function isServiceName(name: string): name is ServiceName {
  return (services as readonly string[]).includes(name);
}

/** Where k8s/base puts the shop (its kustomization's `namespace`). */
export const namespace = 'shop';

/** Paths relative to the checkout. */
export const routesPath = (service: ServiceName) => `mesh/${service}.yaml`;
export const basePath = (service: ServiceName) => `k8s/base/${service}`;
export const versionsPath = (service: ServiceName) => `${basePath(service)}/kustomization.yaml`;

export interface ManifestFile {
  /** Relative to the checkout. */
  path: string;
  text: string;
}

/** Everything a plan needs to know about one service's manifests. */
export interface Manifests {
  service: ServiceName;
  /** The subsets and routes (mesh/<service>.yaml). */
  routes: ManifestFile;
  /** Which versions are deployed (k8s/base/<service>/kustomization.yaml). */
  versions: ManifestFile;
  /**
   * Version folders under k8s/base/<service>/: folders whose kustomization
   * runs the shared workload (`../workload`), deployed or not.
   */
  versionFolders: string[];
}

function readManifest(root: string, path: string): ManifestFile {
  const file = join(root, path);
  if (!existsSync(file)) throw new CanaryError(`${path} not found under ${root}`);
  return { path, text: readFileSync(file, 'utf8') };
}

function runsWorkload(root: string, folder: string): boolean {
  const file = join(root, folder, 'kustomization.yaml');
  if (!existsSync(file)) return false;
  const [document] = parseStream(readFileSync(file, 'utf8'), join(folder, 'kustomization.yaml'));
  const resources = document?.toJS() as { resources?: unknown } | undefined;
  return Array.isArray(resources?.resources) && resources.resources.includes('../workload');
}

export function readManifests(root: string, service: ServiceName): Manifests {
  const base = basePath(service);
  const routes = readManifest(root, routesPath(service));
  const versions = readManifest(root, versionsPath(service));
  const versionFolders = readdirSync(join(root, base), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && runsWorkload(root, join(base, entry.name)))
    .map((entry) => entry.name)
    .sort();
  return { service, routes, versions, versionFolders };
}

export function writeManifests(root: string, files: readonly ManifestFile[]): void {
  for (const file of files) writeFileSync(join(root, file.path), file.text);
}
