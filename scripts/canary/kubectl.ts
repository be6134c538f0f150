import { spawnSync } from 'node:child_process';

/** How a kubectl run ended: its exit status, or why it did not run. */
export interface KubectlResult {
  status: number | null;
  error?: string;
}

export type Kubectl = (args: readonly string[]) => KubectlResult;

/** Runs kubectl (or $KUBECTL) with the terminal attached, echoing the command first. */
export const runKubectl: Kubectl = (args) => {
  const binary = process.env.KUBECTL ?? 'kubectl';
  process.stdout.write(`$ ${binary} ${args.join(' ')}\n`);
  const result = spawnSync(binary, args, { stdio: 'inherit' });
  return result.error ? { status: null, error: result.error.message } : { status: result.status };
};
