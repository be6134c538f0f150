import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const repo = resolve(import.meta.dirname, '../..');
/** The pinned grpcurl that test/global-setup.ts builds into .tools/bin. */
export const grpcurlPath = resolve(repo, '.tools/bin/grpcurl');

export interface GrpcurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GrpcurlOptions {
  /** A command grpcurl runs under, e.g. nsenter into a mesh lab pod (test/mesh/lab-access.ts). */
  prefix?: readonly string[];
  /** grpcurl's -max-time, in seconds (default 10). */
  maxTime?: number;
}

/** Runs the real grpcurl binary (plaintext), never through a shell. */
export function grpcurl(
  args: readonly string[],
  input?: unknown,
  options: GrpcurlOptions = {},
): Promise<GrpcurlResult> {
  if (!existsSync(grpcurlPath))
    throw new Error(`${grpcurlPath} is missing: run scripts/install-tools.sh`);
  const data = input === undefined ? [] : ['-d', JSON.stringify(input)];
  const argv = [
    ...(options.prefix ?? []),
    grpcurlPath,
    '-plaintext',
    ...['-max-time', String(options.maxTime ?? 10)],
    ...data,
    ...args,
  ];
  return new Promise((done) => {
    execFile(argv[0] as string, argv.slice(1), (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs grpcurl and parses its JSON answer; throws with grpcurl's output when the call failed. */
export async function grpcurlJson<T = Record<string, unknown>>(
  args: readonly string[],
  input?: unknown,
): Promise<T> {
  const result = await grpcurl(args, input);
  if (result.code !== 0)
    throw new Error(`grpcurl ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
