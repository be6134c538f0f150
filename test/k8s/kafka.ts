// How the services find Kafka in a rendered overlay (docs/events.md): with
// KAFKA_BROKERS set, UserService relays its outbox to the topic and
// ProductService follows it (USER_EVENTS_TRANSPORT defaults to `kafka`);
// without it, both stay on the embedded gRPC stream.
import { get, type K8sObject, list, ofKind, text } from './manifests.js';

/** Where a Deployment's KAFKA_BROKERS comes from: `secret <name>/<key>`, `value <…>`, or undefined. */
export function kafkaBrokersSource(deployment: K8sObject): string | undefined {
  const entries = list(deployment, 'spec', 'template', 'spec', 'containers').flatMap((c) =>
    list(c, 'env').filter((e) => text(e, 'name') === 'KAFKA_BROKERS'),
  );
  const [entry] = entries;
  if (entry === undefined) return undefined;
  const ref = get(entry, 'valueFrom', 'secretKeyRef');
  if (ref !== undefined) return `secret ${text(ref, 'name')}/${text(ref, 'key')}`;
  return `value ${text(entry, 'value')}`;
}

/**
 * The shop's Deployments agree: all of them read KAFKA_BROKERS, or none
 * does (a UserService that relays to a topic ProductService never reads
 * leaves the read model behind; the other way round it starves). Where they
 * do, it comes from one Secret key, never a literal, and a Secret the overlay
 * renders (generated, as the strimzi-kafka component's) holds that key.
 */
export function kafkaWiringProblems(
  objects: readonly K8sObject[],
  deployments: readonly K8sObject[],
): string[] {
  const sources = new Map(deployments.map((d) => [d.metadata.name, kafkaBrokersSource(d)]));
  const distinct = new Set(sources.values());
  if (distinct.size > 1) {
    return [
      `the services disagree on KAFKA_BROKERS: ${[...sources]
        .map(([name, source]) => `${name}: ${source ?? 'unset'}`)
        .join(', ')}`,
    ];
  }
  const [source] = distinct;
  if (source === undefined) return [];
  const secret = /^secret ([^/]+)\/(.+)$/.exec(source);
  if (!secret) return [`KAFKA_BROKERS is not read from a Secret (${source})`];
  const [, name, key] = secret;
  const rendered = ofKind(objects, 'Secret').find(
    (s) => s.metadata.name === name && s.metadata.namespace === deployments[0]?.metadata.namespace,
  );
  if (rendered && get(rendered, 'data', key ?? '') === undefined) {
    return [`Secret ${name} has no key ${key}`];
  }
  return [];
}

/** A rendered Secret's value (kustomize writes `data`, base64), or undefined. */
export function secretValue(secret: K8sObject | undefined, key: string): string | undefined {
  const data = text(secret, 'data', key);
  return data === undefined
    ? text(secret, 'stringData', key)
    : Buffer.from(data, 'base64').toString();
}
