// `npm run canary -- status --rollout` and `npm run canary -- watch`: the
// same tool, for a service that Argo Rollouts releases
// (k8s/components/progressive, docs/progressive-delivery.md). They read the
// cluster and never edit a file: the controller, not this tool, moves that
// canary. Every other command is the manual canary (run-canary.ts).
//
//   status --rollout   print the Rollout once
//   watch              print it every 2 s until it is Healthy, Degraded or
//                      aborted (or Ctrl-C)
// Options: --service <name> (the Rollout's name, default product-service),
// --namespace <ns> (default shop), --kubeconfig <file>, --context <name>;
// KUBECTL overrides the kubectl binary.
// Exit code: 0 printed (watch: the rollout is Healthy); 1 kubectl failed;
// 2 bad arguments; 3 (watch) the rollout ended Degraded or aborted.
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CanaryError } from './canary-error.js';
import { type KubectlJson, kubectlJson, readRolloutView, type Target } from './rollout-read.js';
import { formatRolloutStatus, outcomeOf } from './rollout-status.js';

export interface RolloutIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  kubectl: KubectlJson;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

export const defaultRolloutIo: RolloutIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  kubectl: kubectlJson,
  sleep: (ms) => delay(ms),
  now: () => new Date(),
};

/** How often `watch` looks again. */
export const watchIntervalMs = 2000;

/** Options of either tool that take a value (so the value is not the command). */
const valued = new Set([
  '--service',
  '--overlay',
  '--root',
  '--namespace',
  '--kubeconfig',
  '--context',
]);

/** True for the commands this file handles: `watch`, and `status --rollout`. */
export function isRolloutCommand(argv: readonly string[]): boolean {
  const first = argv.find((arg, i) => !arg.startsWith('-') && !valued.has(argv[i - 1] ?? ''));
  return first === 'watch' || argv.includes('--rollout');
}

function parse(argv: readonly string[]): { command: 'status' | 'watch'; target: Target } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      rollout: { type: 'boolean', default: false },
      service: { type: 'string', default: 'product-service' },
      namespace: { type: 'string', default: 'shop' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
    },
  });
  const [command = 'status', ...rest] = positionals;
  if ((command !== 'status' && command !== 'watch') || rest.length > 0) {
    throw new CanaryError(
      `with --rollout only status and watch read the Rollout, got "${positionals.join(' ')}"`,
    );
  }
  const kubectlOptions = [
    ...(values.kubeconfig ? [`--kubeconfig=${values.kubeconfig}`] : []),
    ...(values.context ? [`--context=${values.context}`] : []),
  ];
  return {
    command,
    target: { name: values.service, namespace: values.namespace, kubectlOptions },
  };
}

export async function runRollout(argv: readonly string[], io: RolloutIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    const usage = String((error as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
    if (!(error instanceof CanaryError) && !usage) throw error;
    io.stderr(`canary: ${(error as Error).message}\n`);
    return 2;
  }
  const { command, target } = parsed;
  try {
    for (;;) {
      const view = readRolloutView(target, io.kubectl);
      const block = formatRolloutStatus(view);
      if (command === 'status') {
        io.stdout(block);
        return 0;
      }
      io.stdout(`[${io.now().toISOString().slice(11, 19)}] ${block}`);
      const outcome = outcomeOf(view);
      if (outcome) return outcome === 'Healthy' ? 0 : 3;
      await io.sleep(watchIntervalMs);
    }
  } catch (error) {
    if (!(error instanceof CanaryError)) throw error;
    io.stderr(`canary: ${error.message}\n`);
    return 1;
  }
}
