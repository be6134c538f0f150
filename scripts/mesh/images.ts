// EMULATED container images. The lab has no container runtime: each image a
// pod names is mapped to a program on this machine, run with the pod spec's
// command, args, env and working directory as a runtime would run the image.
//   the services' images (user-service, product-service) → `node` and dist/
//     of this checkout, with the image's CMD read from the Dockerfile;
//   Istio's proxy image (…/proxyv2) → .tools/bin/pilot-agent, which starts
//     .tools/bin/envoy (upstream Envoy 1.40.0);
//   Jaeger's image → .tools/bin/jaeger, listening on all interfaces as the
//     image's JAEGER_LISTEN_HOST=0.0.0.0 makes it;
//   busybox images (the lab's toolbox pod) → this machine's own programs, the
//     pod spec's command run as it is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repo, tool } from './lab.js';

export interface ImageConfig {
  /** The image's ENTRYPOINT + CMD split as Kubernetes does: command replaces entrypoint, args replace cmd. */
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  env: Record<string, string>;
}

/** CMD of each `FROM runtime AS <target>` stage of the Dockerfile, which builds the services' images. */
function dockerfileCommands(): Map<string, string[]> {
  const text = readFileSync(join(repo, 'Dockerfile'), 'utf8');
  const commands = new Map<string, string[]>();
  let stage: string | undefined;
  for (const line of text.split('\n')) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from) stage = from[1];
    const cmd = /^CMD\s+(\[.*\])\s*$/.exec(line);
    if (cmd?.[1] && stage) commands.set(stage, JSON.parse(cmd[1]) as string[]);
  }
  return commands;
}

export function imageConfig(image: string): ImageConfig {
  const name =
    image
      .replace(/[:@].*$/, '')
      .split('/')
      .pop() ?? image;
  if (name === 'proxyv2') {
    return { entrypoint: [tool('pilot-agent')], cmd: [], workingDir: '/', env: {} };
  }
  if (name === 'jaeger') {
    return {
      entrypoint: [tool('jaeger')],
      cmd: [],
      workingDir: '/',
      env: { JAEGER_LISTEN_HOST: '0.0.0.0' },
    };
  }
  if (name === 'busybox') return { entrypoint: [], cmd: [], workingDir: '/', env: {} };
  const cmd = dockerfileCommands().get(name);
  if (cmd) {
    // The Dockerfile's runtime stage: WORKDIR /app (here: the checkout) and
    // ENV NODE_ENV=production.
    return { entrypoint: [], cmd, workingDir: repo, env: { NODE_ENV: 'production' } };
  }
  throw new Error(`the lab maps no program to image ${image}`);
}
