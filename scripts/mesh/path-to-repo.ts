// The lab's processes run as the users their pods and images name (uid 1000
// for the services, 1337 for Envoy, postgres for the database), and they
// must reach this checkout (dist/, .mesh-lab/). A checkout below a private
// folder (mktemp -d makes one 0700, as a CI runner may) cannot be traversed
// by them: grant "others" search (x, never read) on each ancestor that lacks
// it, and record the modes so that `down` puts every one back.
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repo } from '../lib/child-process.js';
import { stateDir } from './lab.js';

const record = () => join(stateDir, 'path-to-repo.json');

export function openPathToRepo(): void {
  const changed: { path: string; mode: number }[] = [];
  for (let dir = repo.replace(/\/$/, ''); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      changed.push({ path: dir, mode });
      chmodSync(dir, mode | 0o001);
    }
  }
  writeFileSync(record(), JSON.stringify(changed));
}

export function restorePathToRepo(): void {
  if (!existsSync(record())) return;
  const changed = JSON.parse(readFileSync(record(), 'utf8')) as { path: string; mode: number }[];
  for (const { path, mode } of changed.reverse()) {
    if (existsSync(path)) chmodSync(path, mode);
  }
}
