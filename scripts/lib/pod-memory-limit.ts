import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repo } from './child-process.js';

/**
 * The services' memory limit in their pods (k8s/components/service-pod/container.yaml),
 * in bytes: what spawnService's memoryLimitBytes takes to run a service as in its pod.
 */
export const POD_MEMORY_LIMIT_BYTES = (() => {
  const patch = parse(
    readFileSync(join(repo, 'k8s/components/service-pod/container.yaml'), 'utf8'),
  ) as { path: string; value?: { limits?: { memory?: string } } }[];
  const limit = patch.find((op) => op.path.endsWith('/resources'))?.value?.limits?.memory;
  const mebibytes = limit?.match(/^(\d+)Mi$/)?.[1];
  if (!mebibytes) throw new Error(`container.yaml: a memory limit in Mi, not ${limit}`);
  return Number(mebibytes) * 1024 * 1024;
})();
