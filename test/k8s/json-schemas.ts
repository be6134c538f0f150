// JSON schemas for kubeconform, made offline from pinned sources:
//
// - Kubernetes: the OpenAPI (swagger 2) spec that ships inside the
//   k8s.io/kubernetes Go module, fetched through the Go module proxy and
//   checked against the hash below (and Go's checksum database). We validate
//   against the oldest Kubernetes release we support, 1.32, so a field that
//   only newer clusters know fails here.
// - Istio: the CustomResourceDefinitions in the install manifest of the pinned
//   istioctl (`istioctl manifest generate`), i.e. the CRDs of the Istio that
//   mesh/istio-install.yaml installs.
//
// The conversion follows kubeconform's openapi2jsonschema: one file per kind,
// int-or-string and quantities accept both forms, and every object with
// declared properties rejects unknown ones (what kubectl's strict
// validation does), so a misspelled field fails.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { get, isObject, type K8sObject, list, text } from './manifests.js';

export const kubernetesModule = {
  path: 'k8s.io/kubernetes',
  version: 'v1.32.13',
  sum: 'h1:5TGYdZ6YZqdp6h/Rp1vX/4TIoybMPdgv97LCZCtPuNQ=',
} as const;

/** kubeconform's -schema-location for the folder `writeSchemas` filled. */
export function schemaLocation(dir: string): string {
  return `${dir}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`;
}

/**
 * Downloads a module version into the Go module cache (verified by go.sum
 * rules and the checksum database) and returns its folder.
 */
export function goModuleDir(module: { path: string; version: string; sum: string }): string {
  // Outside any module, so no go.mod is consulted or changed.
  const cwd = mkdtempSync(join(tmpdir(), 'go-mod-download-'));
  const out = execFileSync('go', ['mod', 'download', '-json', `${module.path}@${module.version}`], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=mod' },
  });
  const info = JSON.parse(out) as { Dir?: string; Sum?: string; Error?: string };
  if (info.Error || !info.Dir) throw new Error(`go mod download ${module.path}: ${info.Error}`);
  if (info.Sum !== module.sum) {
    throw new Error(`${module.path}@${module.version} hash is ${info.Sum}, pinned ${module.sum}`);
  }
  return info.Dir;
}

type Schema = Record<string, unknown>;

/** Where kubeconform looks for a kind: `<group or v1>/<kind>_<version>.json`. */
function schemaFile(dir: string, group: string, version: string, kind: string): string {
  return join(dir, group === '' ? version : group, `${kind.toLowerCase()}_${version}.json`);
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value));
}

const quantity = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** One swagger schema node, converted; `ref` rewrites `#/definitions/...` references. */
function fromSwagger(node: Schema, ref: (target: string) => string): Schema {
  if (typeof node.$ref === 'string') return { ...node, $ref: ref(node.$ref) };
  if (node.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  return strict(node, (child) => fromSwagger(child, ref));
}

/** Converts the child schemas of `node` and closes it to undeclared properties. */
function strict(node: Schema, convert: (child: Schema) => Schema): Schema {
  const out: Schema = { ...node };
  if (isObject(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([name, child]) => [name, convert(child as Schema)]),
    );
    if (!('additionalProperties' in node) && !node['x-kubernetes-preserve-unknown-fields']) {
      out.additionalProperties = false;
    }
  }
  if (isObject(node.additionalProperties)) {
    out.additionalProperties = convert(node.additionalProperties);
  }
  if (isObject(node.items)) out.items = convert(node.items);
  if (isObject(node.not)) out.not = convert(node.not);
  for (const key of ['allOf', 'anyOf', 'oneOf']) {
    if (Array.isArray(node[key])) out[key] = (node[key] as Schema[]).map(convert);
  }
  return out;
}

/** Writes a schema per kind of the Kubernetes API, sharing one definitions file. */
export function writeKubernetesSchemas(swaggerFile: string, dir: string): number {
  const swagger = JSON.parse(readFileSync(swaggerFile, 'utf8')) as {
    definitions: Record<string, Schema>;
  };
  const definitionsFile = join(dir, '_definitions.json');
  const convertAll = (ref: (name: string) => string) =>
    Object.fromEntries(
      Object.entries(swagger.definitions).map(([name, definition]) => [
        name,
        name === quantity
          ? { oneOf: [{ type: 'string' }, { type: 'number' }] }
          : fromSwagger(definition, ref),
      ]),
    );
  writeJson(definitionsFile, { definitions: convertAll((target) => target) });

  let kinds = 0;
  for (const [name, definition] of Object.entries(swagger.definitions)) {
    for (const gvk of list(definition, 'x-kubernetes-group-version-kind')) {
      const group = text(gvk, 'group') ?? '';
      const version = text(gvk, 'version') ?? '';
      const kind = text(gvk, 'kind') ?? '';
      const file = schemaFile(dir, group, version, kind);
      const toShared = (target: string) => `${relative(dirname(file), definitionsFile)}${target}`;
      writeJson(file, fromSwagger(swagger.definitions[name] ?? {}, toShared));
      kinds++;
    }
  }
  return kinds;
}

/** Writes a schema per served version of each CustomResourceDefinition. */
export function writeCrdSchemas(crds: readonly K8sObject[], dir: string): number {
  let kinds = 0;
  for (const crd of crds) {
    const group = text(crd, 'spec', 'group') ?? '';
    const kind = text(crd, 'spec', 'names', 'kind') ?? '';
    for (const version of list(crd, 'spec', 'versions')) {
      const schema = get(version, 'schema', 'openAPIV3Schema');
      if (!isObject(schema)) continue;
      // CRD schemas leave the envelope out; declare it so the root can be strict too.
      const root = strict(
        {
          ...schema,
          properties: {
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            metadata: { type: 'object' },
            ...(isObject(schema.properties) ? schema.properties : {}),
          },
        },
        function crdNode(child: Schema): Schema {
          return strict(child, crdNode);
        },
      );
      writeJson(schemaFile(dir, group, text(version, 'name') ?? '', kind), root);
      kinds++;
    }
  }
  return kinds;
}
