// `npm run canary` without the process around it: parses the arguments,
// plans, writes the edited files, and with --apply runs kubectl through the
// function it is given. Returns the exit code: 0 done, 1 kubectl failed,
// 2 refused (nothing written).
//
// A failed `kubectl apply` puts the edited files back as they were, since
// the cluster did not take the change (it may have taken part of it: the
// message says to apply the restored files). Once the apply has succeeded the
// edit stays, because the cluster now runs it; a failed rollout wait or
// delete after that says what is left to do and how to undo the change.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { applySteps, deleteArgs } from './apply-steps.js';
import { CanaryError } from './canary-error.js';
import type { Kubectl } from './kubectl.js';
import {
  isServiceName,
  type ManifestFile,
  type Manifests,
  namespace,
  readManifests,
  services,
  writeManifests,
} from './manifests.js';
import { parseCommand } from './parse-command.js';
import { type Plan, plan } from './plan.js';

export interface CanaryIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  kubectl: Kubectl;
  /** The checkout to edit when --root is not given. */
  defaultRoot: string;
}

interface Options {
  root: string;
  service: (typeof services)[number];
  overlay?: { name: string; dir: string };
  apply: boolean;
}

function parseOptions(argv: readonly string[], defaultRoot: string) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      apply: { type: 'boolean', default: false },
      overlay: { type: 'string' },
      service: { type: 'string', default: 'product-service' },
      root: { type: 'string', default: defaultRoot },
    },
  });
  const root = resolve(values.root);
  if (!isServiceName(values.service)) {
    throw new CanaryError(`unknown service "${values.service}": use ${services.join(' or ')}`);
  }
  if (values.apply && !values.overlay) {
    throw new CanaryError(
      '--apply needs --overlay <name> (one of k8s/overlays/), e.g. --overlay local',
    );
  }
  let overlay: Options['overlay'];
  if (values.overlay) {
    const dir = join(root, 'k8s/overlays', values.overlay);
    if (!existsSync(join(dir, 'kustomization.yaml'))) {
      throw new CanaryError(`no overlay k8s/overlays/${values.overlay}`);
    }
    overlay = { name: values.overlay, dir };
  }
  const options: Options = { root, service: values.service, apply: values.apply, overlay };
  return { options, positionals };
}

const failed = (result: ReturnType<Kubectl>) =>
  result.error ?? (result.status === 0 ? undefined : `exit ${result.status}`);

function apply(io: CanaryIo, options: Options, manifests: Manifests, done: Plan): number {
  const { service, overlay } = options;
  if (!overlay) return 0;
  for (const step of applySteps(done, service, overlay.dir)) {
    const why = failed(io.kubectl(step.args));
    if (why === undefined) continue;
    const command = `kubectl ${step.args.join(' ')}`;
    if (step.kind === 'apply') {
      const originals: ManifestFile[] = [manifests.routes, manifests.versions].filter((file) =>
        done.edits.some((edit) => edit.path === file.path),
      );
      writeManifests(options.root, originals);
      const restored =
        originals.length === 0
          ? 'no file was edited'
          : `${originals.map((f) => f.path).join(' and ')} ${originals.length > 1 ? 'are' : 'is'} ` +
            'back as before';
      io.stderr(
        `canary: ${command} failed (${why}); ${restored}. kubectl may have applied part ` +
          `of the change: once the cluster answers, run kubectl apply -k ${overlay.dir} to ` +
          `make it match the files again${
            done.started
              ? `, and kubectl ${deleteArgs(service, done.started).join(' ')} if ` +
                `${done.started} was created`
              : ''
          }.\n`,
      );
    } else if (step.kind === 'rollout') {
      io.stderr(
        `canary: ${command} failed (${why}). The edit stays, and the cluster has it: ` +
          `${done.started} is deployed as the canary with 0% of traffic (only x-canary: true ` +
          `calls reach it) but is not ready. Look at kubectl -n ${namespace} get pods ` +
          `-l app=${service},version=${done.started}; to undo: npm run canary -- rollback ` +
          `--service ${service} --apply --overlay ${overlay.name}\n`,
      );
    } else {
      io.stderr(
        `canary: ${command} failed (${why}). The edit stays, and the cluster has it: ` +
          `${done.retired} takes no traffic, but its Deployment is still there: run ` +
          `${command} once the cluster answers.\n`,
      );
    }
    return 1;
  }
  return 0;
}

export function runCanary(argv: readonly string[], io: CanaryIo): number {
  try {
    const { options, positionals } = parseOptions(argv, io.defaultRoot);
    const manifests = readManifests(options.root, options.service);
    const done = plan(manifests, parseCommand(positionals));
    writeManifests(options.root, done.edits);
    io.stdout(`${options.service}: ${done.summary}\n`);
    if (options.apply) return apply(io, options, manifests, done);
    if (done.retired) {
      io.stdout(
        `${done.retired} is out of the manifests, but kubectl apply does not delete it: run\n` +
          `  kubectl ${deleteArgs(options.service, done.retired).join(' ')}\n` +
          `after applying (or use --apply --overlay <name>).\n`,
      );
    }
    return 0;
  } catch (error) {
    // parseArgs reports a bad option as a TypeError with an ERR_PARSE_ARGS_* code.
    const usage = String((error as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
    if (!(error instanceof CanaryError) && !usage) throw error;
    io.stderr(`canary: ${(error as Error).message}\n`);
    return 2;
  }
}
