// One mesh lab for the whole mesh project (test/mesh/*.test.ts): up before
// the first file, down after the last. The files run one after another
// (vitest.config.ts) and share it: a second lab cannot run beside the first
// (one bridge, fixed ports), and bringing it up per file would cost more
// than the checks. Each file reads the gateway's address with
// `inject('meshGateway')`.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The lab's ingress gateway, HOST:PORT, as `npm run mesh -- up` prints it. */
    meshGateway: string;
  }
}

const repo = join(import.meta.dirname, '../..');
const run = promisify(execFile);
const mesh = (command: string, timeout: number) =>
  run('npx', ['tsx', join(repo, 'scripts/mesh.ts'), command], {
    cwd: repo,
    maxBuffer: 64 << 20,
    timeout,
  });

export default async function setup(project: TestProject) {
  const { stdout } = await mesh('up', 900_000);
  const line = /^gateway: (\S+)$/m.exec(stdout);
  if (!line?.[1]) throw new Error(`mesh up printed no gateway line:\n${stdout.slice(-2000)}`);
  project.provide('meshGateway', line[1]);
  return async () => {
    await mesh('down', 180_000);
  };
}
