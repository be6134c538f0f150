// Regenerates the Prometheus Operator's objects in
// k8s/components/monitoring/operator/ (a PodMonitor and the PrometheusRules)
// from prometheus.yml and the rule files next to it (see
// scripts/monitoring/operator-manifests.ts for why they are generated).
//
// Usage: npx tsx scripts/monitoring-operator.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repo } from './lib/child-process.js';
import { operatorManifests } from './monitoring/operator-manifests.js';

for (const file of operatorManifests()) {
  writeFileSync(join(repo, file.path), file.text);
  console.log(`wrote ${file.path}`);
}
