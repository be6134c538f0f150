// User events over Kafka (docs/events.md, docs/kubernetes.md): production
// and the overlays built on it point both services at the brokers of the
// Secret shop/kafka, the local overlay keeps the embedded gRPC stream, and
// production with k8s/components/strimzi-kafka renders, validates, and
// declares a Kafka and a topic the services can use. The last block breaks
// a copy to show each check can fail.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_EVENTS_TOPIC } from '../../services/shared/events/kafka-binding.js';
import { shopDeployments, shopServices } from './checks.js';
import { kafkaBrokersSource, kafkaWiringProblems, secretValue } from './kafka.js';
import {
  get,
  type K8sObject,
  list,
  named,
  ofKind,
  overlayNames,
  parseObjects,
  type Rendered,
  renderOverlay,
  renderWithComponent,
  repoRoot,
} from './manifests.js';
import {
  strimziClientProblems,
  strimziFieldProblems,
  strimziKinds,
  strimziProblems,
  topicName,
} from './strimzi.js';
import { overlayLineage } from './tools.js';
import { buildSchemas, kubeconform, validateYaml } from './validators.js';

let work: string;
let schemas: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'k8s-kafka-'));
  schemas = buildSchemas(join(work, 'schemas'));
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Each shop Deployment's KAFKA_BROKERS source, by name. */
const sources = (objects: readonly K8sObject[]) =>
  Object.fromEntries(shopDeployments(objects).map((d) => [d.metadata.name, kafkaBrokersSource(d)]));

describe.each(overlayNames())('overlay %s', (overlay) => {
  let objects: K8sObject[];

  beforeAll(() => {
    objects = renderOverlay(overlay).objects;
  });

  it('gives both services the same Kafka, or neither', () => {
    expect(kafkaWiringProblems(objects, shopDeployments(objects))).toEqual([]);
  });

  it('declares any Strimzi objects with checked fields, and a Kafka the services can use', () => {
    expect(strimziFieldProblems(objects)).toEqual([]);
    expect(strimziProblems(objects)).toEqual([]);
    if (ofKind(objects, 'Kafka').length > 0) {
      expect(strimziClientProblems(objects, shopDeployments(objects))).toEqual([]);
    }
  });
});

/** Production and the overlays built on it (progressive), which are deployed like it. */
const onProduction = overlayNames().filter((o) => overlayLineage(o).includes('production'));

it('has production among the overlays on Kafka', () => {
  expect(onProduction).toContain('production');
});

describe.each(onProduction)('overlay %s', (overlay) => {
  it('reads KAFKA_BROKERS from the Secret kafka, key brokers, in every Deployment of both services', () => {
    const objects = renderOverlay(overlay).objects;
    const apps = new Set(shopDeployments(objects).map((d) => d.metadata.labels?.app));
    expect([...apps].sort()).toEqual([...shopServices()].sort());
    for (const [name, source] of Object.entries(sources(objects))) {
      expect(source, name).toBe('secret kafka/brokers');
    }
  });
});

it('the local overlay keeps the embedded gRPC stream: no Deployment reads KAFKA_BROKERS', () => {
  const objects = renderOverlay('local').objects;
  expect(Object.values(sources(objects))).toEqual([undefined, undefined, undefined]);
  const transports = shopDeployments(objects).flatMap((d) =>
    list(d, 'spec', 'template', 'spec', 'containers')
      .flatMap((c) => list(c, 'env'))
      .filter((e) => get(e, 'name') === 'USER_EVENTS_TRANSPORT'),
  );
  expect(transports).toEqual([]);
});

/** production with the strimzi-kafka component, as a user's overlay would add it. */
const renderProductionWithStrimzi = (dir: string): Rendered =>
  renderWithComponent(dir, 'overlays/production', 'components/strimzi-kafka');

describe('production with the strimzi-kafka component', () => {
  let rendered: Rendered;
  let objects: K8sObject[];

  beforeAll(() => {
    rendered = renderProductionWithStrimzi(join(work, 'with-strimzi'));
    objects = rendered.objects;
  });

  it('renders a Kafka, its node pool, the user events topic and the Secret kafka', () => {
    expect(ofKind(objects, 'Kafka').map((k) => k.metadata.name)).toEqual(['shop']);
    expect(ofKind(objects, 'KafkaNodePool')).toHaveLength(1);
    expect(ofKind(objects, 'KafkaTopic').map(topicName)).toEqual([USER_EVENTS_TOPIC]);
    expect(
      ofKind(objects, 'Secret').filter((s) => s.metadata.name.startsWith('kafka-')),
    ).toHaveLength(1);
  });

  it('passes every validator, the Strimzi kinds held to the fields they were checked against', () => {
    expect(validateYaml(rendered.yaml, join(work, 'with-strimzi'), schemas, strimziKinds)).toEqual(
      [],
    );
    expect(strimziFieldProblems(objects)).toEqual([]);
  });

  it('names shop.user.v1.events, with 3 or more partitions, 3 replicas and a stated retention', () => {
    const topic = ofKind(objects, 'KafkaTopic')[0];
    expect(topicName(topic as K8sObject)).toBe('shop.user.v1.events');
    expect(get(topic, 'spec', 'partitions')).toBeGreaterThanOrEqual(3);
    expect(get(topic, 'spec', 'replicas')).toBe(3);
    expect(get(topic, 'spec', 'config')).toMatchObject({
      'retention.ms': 7 * 24 * 3600 * 1000,
      'min.insync.replicas': 2,
      'cleanup.policy': 'delete',
    });
    expect(strimziProblems(objects)).toEqual([]);
  });

  it("points both services at the Kafka's bootstrap Service through the generated Secret", () => {
    const deployments = shopDeployments(objects);
    const [secret] = ofKind(objects, 'Secret').filter((s) => s.metadata.name.startsWith('kafka-'));
    for (const d of deployments) {
      expect(kafkaBrokersSource(d), d.metadata.name).toBe(
        `secret ${secret?.metadata.name}/brokers`,
      );
    }
    expect(secretValue(secret, 'brokers')).toBe('shop-kafka-bootstrap.kafka.svc:9092');
    expect(kafkaWiringProblems(objects, deployments)).toEqual([]);
    expect(strimziClientProblems(objects, deployments)).toEqual([]);
  });
});

describe('the ServiceEntry docs/kubernetes.md gives for a broker outside the mesh', () => {
  const docs = readFileSync(join(repoRoot, 'docs/kubernetes.md'), 'utf8');
  const blocks = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .filter((yaml) => /^kind: ServiceEntry$/m.test(yaml));

  it('is one ServiceEntry, kafka-external, passing TCP through to the brokers it resolved', () => {
    expect(blocks).toHaveLength(1);
    const [entry] = parseObjects(blocks[0] ?? '');
    expect(entry?.metadata.name).toBe('kafka-external');
    expect(get(entry, 'spec', 'resolution')).toBe('NONE');
    expect(list(entry, 'spec', 'ports').map((p) => get(p, 'protocol'))).toEqual(['TCP']);
  });

  it('passes every validator', () => {
    expect(validateYaml(blocks[0] ?? '', join(work, 'service-entry'), schemas)).toEqual([]);
  });
});

describe('the Kafka checks', () => {
  let production: K8sObject[];
  let withStrimzi: Rendered;

  beforeAll(() => {
    production = renderOverlay('production').objects;
    withStrimzi = renderProductionWithStrimzi(join(work, 'broken-strimzi'));
  });

  /** A deep copy with one edit. */
  function edited(objects: readonly K8sObject[], edit: (copy: K8sObject[]) => void): K8sObject[] {
    const copy = structuredClone(objects) as K8sObject[];
    edit(copy);
    return copy;
  }

  const envOf = (objects: K8sObject[], deployment: string) =>
    list(
      named(objects, 'Deployment', deployment),
      'spec',
      'template',
      'spec',
      'containers',
      0,
      'env',
    ) as Record<string, unknown>[];
  const kafkaEnv = (objects: K8sObject[], deployment: string) =>
    envOf(objects, deployment).find((e) => e.name === 'KAFKA_BROKERS') as Record<string, unknown>;
  const spec = (objects: K8sObject[], kind: string) =>
    ofKind(objects, kind)[0]?.spec as Record<string, unknown>;

  it('kafkaWiringProblems: one version without Kafka, a literal address, a Secret without the key', () => {
    const oneWithout = edited(production, (copy) => {
      const env = envOf(copy, 'product-service-v2');
      env.splice(env.indexOf(kafkaEnv(copy, 'product-service-v2')), 1);
    });
    expect(kafkaWiringProblems(oneWithout, shopDeployments(oneWithout)).join('\n')).toContain(
      'product-service-v2: unset',
    );
    const literal = edited(production, (copy) => {
      for (const d of shopDeployments(copy)) {
        const entry = kafkaEnv(copy, d.metadata.name);
        delete entry.valueFrom;
        entry.value = 'kafka.example.com:9092';
      }
    });
    expect(kafkaWiringProblems(literal, shopDeployments(literal))).toEqual([
      'KAFKA_BROKERS is not read from a Secret (value kafka.example.com:9092)',
    ]);
    const noKey = edited(withStrimzi.objects, (copy) => {
      const secret = ofKind(copy, 'Secret').find((s) => s.metadata.name.startsWith('kafka-'));
      if (secret) secret.data = { bootstrap: 'eA==' };
    });
    expect(kafkaWiringProblems(noKey, shopDeployments(noKey)).join('\n')).toMatch(
      /Secret kafka-\w+ has no key brokers/,
    );
  });

  it('kubeconform skips exactly the Strimzi kinds: any other kind without a schema still fails', () => {
    const file = join(work, 'with-strimzi.yaml');
    writeFileSync(file, withStrimzi.yaml);
    const withoutTopic = strimziKinds.filter((k) => !k.endsWith('/KafkaTopic'));
    expect(kubeconform(file, schemas, withoutTopic).join('\n')).toContain(
      'KafkaTopic shop.user.v1.events: statusError',
    );
    expect(kubeconform(file, schemas).join('\n')).toContain('could not find schema for Kafka');
  });

  it('strimziFieldProblems: a misspelled field, an unchecked field, another API version', () => {
    const broken = edited(withStrimzi.objects, (copy) => {
      const kafka = spec(copy, 'Kafka');
      (kafka.entityOperator as Record<string, unknown>).topicOperatr = {};
      spec(copy, 'KafkaTopic').topicNme = 'x';
      const pool = ofKind(copy, 'KafkaNodePool')[0];
      if (pool) pool.apiVersion = 'kafka.strimzi.io/v1beta2';
    });
    expect(strimziFieldProblems(broken)).toEqual([
      `kafka.strimzi.io/v1beta2 KafkaNodePool dual-role: not one of ${strimziKinds.join(',')}`,
      'Kafka shop.spec.entityOperator.topicOperatr: not a field the component was checked against',
      'KafkaTopic shop.user.v1.events.spec.topicNme: not a field the component was checked against',
    ]);
  });

  it('strimziProblems: a thin topic, a quorum of 2, no Topic Operator, a Kafka in the mesh', () => {
    const broken = edited(withStrimzi.objects, (copy) => {
      const topic = spec(copy, 'KafkaTopic');
      topic.partitions = 1;
      topic.replicas = 4;
      topic.config = { 'min.insync.replicas': 4, 'cleanup.policy': 'compact' };
      spec(copy, 'KafkaNodePool').replicas = 2;
      delete (spec(copy, 'Kafka').entityOperator as Record<string, unknown>).topicOperator;
    });
    expect(strimziProblems(broken)).toEqual([
      'Kafka shop: 2 KRaft controllers, not an odd quorum of 3 or more',
      'Kafka shop: has KafkaTopics but no Topic Operator to create them',
      'KafkaTopic shop.user.v1.events: 1 partitions, fewer than 3',
      'KafkaTopic shop.user.v1.events: 4 replicas, more than the brokers',
      'KafkaTopic shop.user.v1.events: min.insync.replicas 4 of 4 replicas (2 to replicas - 1)',
      'KafkaTopic shop.user.v1.events: states no retention.ms',
      'KafkaTopic shop.user.v1.events: cleanup.policy is not delete',
    ]);
    const inShop = edited(withStrimzi.objects, (copy) => {
      for (const o of [...ofKind(copy, 'Kafka'), ...ofKind(copy, 'KafkaNodePool')]) {
        o.metadata.namespace = 'shop';
      }
    });
    expect(strimziProblems(inShop)).toEqual([
      'KafkaTopic shop.user.v1.events: strimzi.io/cluster names no Kafka in its namespace',
      "Kafka shop: in shop, a namespace in the mesh's policies",
    ]);
  });

  it('strimziClientProblems: the wrong port, a TLS listener, another topic, no Secret', () => {
    const secretOf = (copy: K8sObject[]) =>
      ofKind(copy, 'Secret').find((s) => s.metadata.name.startsWith('kafka-')) as K8sObject;
    const encode = (value: string) => ({ brokers: Buffer.from(value).toString('base64') });
    const wrongPort = edited(withStrimzi.objects, (copy) => {
      secretOf(copy).data = encode('shop-kafka-bootstrap.kafka.svc:9093');
    });
    expect(strimziClientProblems(wrongPort, shopDeployments(wrongPort))).toContain(
      'Deployment user-service-v1: shop-kafka-bootstrap.kafka.svc:9093 is no plaintext bootstrap address of a rendered Kafka',
    );
    const tls = edited(withStrimzi.objects, (copy) => {
      const listeners = (spec(copy, 'Kafka').kafka as Record<string, unknown>).listeners;
      (listeners as Record<string, unknown>[])[0] = {
        name: 'plain',
        port: 9092,
        type: 'internal',
        tls: true,
      };
    });
    expect(strimziClientProblems(tls, shopDeployments(tls))).toHaveLength(3);
    const otherTopic = edited(withStrimzi.objects, (copy) => {
      const topic = ofKind(copy, 'KafkaTopic')[0];
      if (topic) topic.metadata.name = 'shop.users';
    });
    expect(strimziClientProblems(otherTopic, shopDeployments(otherTopic))).toContain(
      `Deployment product-service-v1: Kafka shop has no KafkaTopic ${USER_EVENTS_TOPIC}`,
    );
    expect(strimziClientProblems(production, shopDeployments(production))).toContain(
      'Deployment user-service-v1: KAFKA_BROKERS names kafka/brokers, not rendered',
    );
  });
});
