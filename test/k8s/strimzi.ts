// Strimzi in the rendered manifests (k8s/components/strimzi-kafka/): the
// Kafka, its node pool and the user events topic, and how the services reach
// them.
//
// kubeconform cannot check these kinds: Strimzi publishes its CRDs only with
// its GitHub releases and Helm chart, which CI cannot reach, and nothing in
// the registries it can reach carries them (the io.strimzi:api jar on Maven
// Central holds the model classes, not the CRDs, and the generator that makes
// CRDs from them, io.strimzi:crd-generator, is not published). So the
// validators skip exactly these kinds, and strimziFieldProblems holds each
// object to the fields the component was checked against instead.
import { USER_EVENTS_TOPIC } from '../../services/shared/events/kafka-binding.js';
import { kafkaBrokersSource, secretValue } from './kafka.js';
import { get, isObject, type K8sObject, list, ofKind, text } from './manifests.js';

const group = 'kafka.strimzi.io/v1';

/** The kinds kubeconform skips (`group/version/Kind`), for its `unvalidated` argument. */
export const strimziKinds = ['Kafka', 'KafkaNodePool', 'KafkaTopic'].map((k) => `${group}/${k}`);

/** A field's allowed shape: `true` any value, an object its own fields, `[shape]` a list of them. */
type Shape = true | { [field: string]: Shape } | [Shape];

/**
 * The fields the component uses, per kind, each checked against the
 * kafka.strimzi.io/v1 CRDs of Strimzi 0.49.1, 0.51.0 and 1.0.1 (kubeconform,
 * strict, when they were written). A field outside these fails until it is
 * checked against those CRDs too and added here. `true` leaves a value to
 * Kafka or Kubernetes: broker and topic `config` (Kafka's own settings),
 * `resources` (a Kubernetes ResourceRequirements).
 */
const checkedFields: Record<string, Shape> = {
  Kafka: {
    spec: {
      kafka: {
        version: true,
        metadataVersion: true,
        listeners: [{ name: true, port: true, type: true, tls: true }],
        config: true,
      },
      entityOperator: { topicOperator: {} },
    },
  },
  KafkaNodePool: {
    spec: {
      replicas: true,
      roles: true,
      storage: {
        type: true,
        volumes: [{ id: true, type: true, size: true, deleteClaim: true, kraftMetadata: true }],
      },
      resources: true,
    },
  },
  KafkaTopic: { spec: { topicName: true, partitions: true, replicas: true, config: true } },
};

const isStrimziKind = (o: K8sObject) => strimziKinds.includes(`${o.apiVersion}/${o.kind}`);
const envelope = new Set(['apiVersion', 'kind', 'metadata']);

function shapeProblems(value: unknown, shape: Shape, where: string): string[] {
  if (shape === true) return [];
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${where}: not a list`];
    return value.flatMap((item, i) => shapeProblems(item, shape[0], `${where}[${i}]`));
  }
  if (!isObject(value)) return [`${where}: not an object`];
  return Object.entries(value).flatMap(([field, child]) => {
    const allowed = shape[field];
    return allowed === undefined
      ? [`${where}.${field}: not a field the component was checked against`]
      : shapeProblems(child, allowed, `${where}.${field}`);
  });
}

/** Each Strimzi object is kafka.strimzi.io/v1 and uses only fields in `checkedFields`. */
export function strimziFieldProblems(objects: readonly K8sObject[]): string[] {
  const problems = objects
    .filter((o) => o.apiVersion.startsWith('kafka.strimzi.io/') && !isStrimziKind(o))
    .map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.name}: not one of ${strimziKinds}`);
  for (const object of objects.filter(isStrimziKind)) {
    const fields = Object.fromEntries(Object.entries(object).filter(([f]) => !envelope.has(f)));
    const shape = checkedFields[object.kind] ?? {};
    problems.push(...shapeProblems(fields, shape, `${object.kind} ${object.metadata.name}`));
  }
  return problems;
}

const clusterOf = (o: K8sObject) => o.metadata.labels?.['strimzi.io/cluster'];
const namespaceOf = (o: K8sObject) => o.metadata.namespace ?? 'default';
const numberOf = (value: unknown) => (value === undefined ? undefined : Number(value));

/** The Kafka a node pool or topic belongs to: the one its strimzi.io/cluster label names, in its namespace. */
function kafkaOf(objects: readonly K8sObject[], o: K8sObject): K8sObject | undefined {
  return ofKind(objects, 'Kafka').find(
    (k) => k.metadata.name === clusterOf(o) && namespaceOf(k) === namespaceOf(o),
  );
}

/** The nodes of a Kafka with a role (`broker`, `controller`), over its node pools. */
function nodes(objects: readonly K8sObject[], kafka: K8sObject, role: string): number {
  return ofKind(objects, 'KafkaNodePool')
    .filter((pool) => kafkaOf(objects, pool) === kafka)
    .filter((pool) => list(pool, 'spec', 'roles').includes(role))
    .reduce((sum, pool) => sum + Number(get(pool, 'spec', 'replicas') ?? 0), 0);
}

/** A KafkaTopic's name in Kafka: spec.topicName, else the object's name. */
export const topicName = (topic: K8sObject) =>
  text(topic, 'spec', 'topicName') ?? topic.metadata.name;

/**
 * What Strimzi needs and the events rely on: every node pool and topic
 * names a Kafka in its namespace; each Kafka runs KRaft with an odd quorum
 * of at least 3 controllers, has brokers, and a Topic Operator when it has
 * topics; each topic has at least 3 partitions, no more replicas than
 * brokers, a min.insync.replicas that still takes writes with one replica
 * down, a stated retention.ms and cleanup.policy delete (compaction would
 * keep only the last event per user). The Kafka runs outside any namespace
 * the render puts in the mesh or under AuthorizationPolicies: the shop's
 * deny-by-default policy would refuse the services' connections, and the
 * brokers' own.
 */
export function strimziProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of [...ofKind(objects, 'KafkaNodePool'), ...ofKind(objects, 'KafkaTopic')]) {
    if (!kafkaOf(objects, o)) {
      problems.push(
        `${o.kind} ${o.metadata.name}: strimzi.io/cluster names no Kafka in its namespace`,
      );
    }
  }
  const meshed = new Set([
    ...ofKind(objects, 'Namespace')
      .filter((ns) => ns.metadata.labels?.['istio-injection'] === 'enabled')
      .map((ns) => ns.metadata.name),
    ...ofKind(objects, 'AuthorizationPolicy').map(namespaceOf),
  ]);
  for (const kafka of ofKind(objects, 'Kafka')) {
    const where = `Kafka ${kafka.metadata.name}`;
    const controllers = nodes(objects, kafka, 'controller');
    if (controllers < 3 || controllers % 2 === 0) {
      problems.push(`${where}: ${controllers} KRaft controllers, not an odd quorum of 3 or more`);
    }
    if (nodes(objects, kafka, 'broker') === 0) problems.push(`${where}: no broker nodes`);
    const topics = ofKind(objects, 'KafkaTopic').filter((t) => kafkaOf(objects, t) === kafka);
    if (topics.length > 0 && get(kafka, 'spec', 'entityOperator', 'topicOperator') === undefined) {
      problems.push(`${where}: has KafkaTopics but no Topic Operator to create them`);
    }
    if (meshed.has(namespaceOf(kafka))) {
      problems.push(`${where}: in ${namespaceOf(kafka)}, a namespace in the mesh's policies`);
    }
  }
  for (const topic of ofKind(objects, 'KafkaTopic')) {
    const where = `KafkaTopic ${topicName(topic)}`;
    const kafka = kafkaOf(objects, topic);
    const partitions = numberOf(get(topic, 'spec', 'partitions')) ?? 0;
    const replicas = numberOf(get(topic, 'spec', 'replicas')) ?? 0;
    const minInSync = numberOf(get(topic, 'spec', 'config', 'min.insync.replicas'));
    const retention = numberOf(get(topic, 'spec', 'config', 'retention.ms'));
    if (partitions < 3) problems.push(`${where}: ${partitions} partitions, fewer than 3`);
    if (kafka && replicas > nodes(objects, kafka, 'broker')) {
      problems.push(`${where}: ${replicas} replicas, more than the brokers`);
    }
    if (minInSync === undefined || minInSync < 2 || minInSync > replicas - 1) {
      problems.push(
        `${where}: min.insync.replicas ${minInSync} of ${replicas} replicas (2 to replicas - 1)`,
      );
    }
    if (retention === undefined || !(retention > 0)) {
      problems.push(`${where}: states no retention.ms`);
    }
    if (get(topic, 'spec', 'config', 'cleanup.policy') !== 'delete') {
      problems.push(`${where}: cleanup.policy is not delete`);
    }
  }
  return problems;
}

/**
 * The services reach a Kafka the render declares: each address in the Secret
 * their KAFKA_BROKERS reads is `<kafka>-kafka-bootstrap.<namespace>.svc`
 * (or `.svc.cluster.local`) at the port of one of its internal, plaintext
 * listeners (the services speak no TLS to Kafka), and that Kafka holds the
 * topic they use (KAFKA_TOPIC, by default USER_EVENTS_TOPIC).
 */
export function strimziClientProblems(
  objects: readonly K8sObject[],
  deployments: readonly K8sObject[],
): string[] {
  const problems: string[] = [];
  for (const deployment of deployments) {
    const where = `Deployment ${deployment.metadata.name}`;
    const source = /^secret ([^/]+)\/(.+)$/.exec(kafkaBrokersSource(deployment) ?? '');
    if (!source) {
      problems.push(`${where}: KAFKA_BROKERS is not read from a Secret`);
      continue;
    }
    const secret = ofKind(objects, 'Secret').find(
      (s) => s.metadata.name === source[1] && namespaceOf(s) === namespaceOf(deployment),
    );
    const brokers = secretValue(secret, source[2] ?? '');
    if (brokers === undefined) {
      problems.push(`${where}: KAFKA_BROKERS names ${source[1]}/${source[2]}, not rendered`);
      continue;
    }
    const topic =
      list(deployment, 'spec', 'template', 'spec', 'containers')
        .flatMap((c) => list(c, 'env'))
        .map((e) => (text(e, 'name') === 'KAFKA_TOPIC' ? text(e, 'value') : undefined))
        .find((value) => value !== undefined) ?? USER_EVENTS_TOPIC;
    for (const address of brokers.split(',').map((a) => a.trim())) {
      const kafka = ofKind(objects, 'Kafka').find((k) =>
        list(k, 'spec', 'kafka', 'listeners').some(
          (l) =>
            text(l, 'type') === 'internal' &&
            get(l, 'tls') === false &&
            [
              `${k.metadata.name}-kafka-bootstrap.${namespaceOf(k)}.svc:${get(l, 'port')}`,
              `${k.metadata.name}-kafka-bootstrap.${namespaceOf(k)}.svc.cluster.local:${get(l, 'port')}`,
            ].includes(address),
        ),
      );
      if (!kafka) {
        problems.push(`${where}: ${address} is no plaintext bootstrap address of a rendered Kafka`);
      } else if (
        !ofKind(objects, 'KafkaTopic').some(
          (t) => kafkaOf(objects, t) === kafka && topicName(t) === topic,
        )
      ) {
        problems.push(`${where}: Kafka ${kafka.metadata.name} has no KafkaTopic ${topic}`);
      }
    }
  }
  return problems;
}
