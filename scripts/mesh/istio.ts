// Istio's install for the lab, rendered by the pinned istioctl from the
// project's own settings (mesh/istio-install.yaml) plus the lab's
// (k8s/overlays/lab/istio-install-lab.yaml), and applied as rendered except:
// istiod's Deployment (and its HPA/PDB) is left out because istiod runs on the
// host (control-plane.ts), and the `istiod` Service gets no selector but an
// Endpoints object naming the host's bridge address, so the API server calls
// the real injection webhook there.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { hostIp, kubeconfigPath, ports, repo, stateDir, tool } from './lab.js';

export function renderIstio(): string {
  const out = execFileSync(
    tool('istioctl'),
    [
      'manifest',
      'generate',
      '-f',
      join(repo, 'mesh/istio-install.yaml'),
      '-f',
      join(repo, 'k8s/overlays/lab/istio-install-lab.yaml'),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    },
  ).toString();
  const docs = parseAllDocuments(out)
    .map((d) => d.toJS())
    .filter((o) => o && typeof o === 'object' && o.kind);
  const kept = docs.filter((o) => {
    const istiod =
      o.metadata?.name === 'istiod' &&
      ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'].includes(o.kind);
    const gatewayScaler = o.kind === 'HorizontalPodAutoscaler' || o.kind === 'PodDisruptionBudget';
    return !istiod && !gatewayScaler;
  });
  const service = kept.find((o) => o.kind === 'Service' && o.metadata.name === 'istiod');
  if (!service) throw new Error('istioctl rendered no istiod Service');
  delete service.spec.selector;
  const target: Record<string, number> = {
    'grpc-xds': ports.istiodGrpc,
    'https-dns': ports.istiodXds,
    'https-webhook': ports.istiodWebhook,
    'http-monitoring': ports.istiodMonitoring,
  };
  kept.push({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod' } },
    subsets: [
      {
        addresses: [{ ip: hostIp }],
        ports: service.spec.ports.map((p: { name: string; port: number; targetPort?: number }) => ({
          name: p.name,
          port: target[p.name] ?? Number(p.targetPort ?? p.port),
          protocol: 'TCP',
        })),
      },
    ],
  });
  const crds = kept.filter((o) => o.kind === 'CustomResourceDefinition');
  const rest = kept.filter((o) => o.kind !== 'CustomResourceDefinition');
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } };
  const file = join(stateDir, 'istio.yaml');
  writeFileSync(file, [ns, ...crds, ...rest].map((o) => stringify(o)).join('---\n'));
  return file;
}

export function kubectl(args: string[], input?: string): string {
  return execFileSync('kubectl', [`--kubeconfig=${kubeconfigPath}`, ...args], {
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  }).toString();
}
