// A real Apache Kafka broker for tests: one KRaft node (broker and
// controller in one process) on the machine's Java, from the jars that
// scripts/install-tools.sh kafka pinned into .tools/kafka/libs, with its
// log directory in a temp dir and its listeners on free loopback ports.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, type Message } from '@platformatic/kafka';
import { type Child, repo, spawnChild } from '../../scripts/lib/child-process.js';
import { freePort } from '../../scripts/lib/free-port.js';

export interface KafkaBroker {
  /** `127.0.0.1:port`, for KAFKA_BROKERS and the clients' bootstrapBrokers. */
  readonly bootstrap: string;
  readonly child: Child;
  /** Stops the broker (SIGKILL: its data is thrown away) and deletes its files. */
  close(): Promise<void>;
}

const home = join(repo, '.tools/kafka');
const classpath = join(home, 'libs/*');

/** The test broker's settings: single node, so every internal topic has one replica. */
function serverProperties(dir: string, port: number, controllerPort: number, partitions: number) {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${join(dir, 'data')}`,
    // Topics the relay creates on first use get several partitions, so
    // per-partition order and per-partition positions are exercised.
    `num.partitions=${partitions}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Formats a fresh log directory and starts the broker; resolves once it accepts connections. */
export async function startKafka(options: { partitions?: number } = {}): Promise<KafkaBroker> {
  if (!existsSync(join(home, 'libs'))) {
    throw new Error('no Kafka jars in .tools/kafka/libs: run scripts/install-tools.sh kafka');
  }
  const dir = await mkdtemp(join(tmpdir(), 'kafka-test-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const config = join(dir, 'server.properties');
  await writeFile(config, serverProperties(dir, port, controllerPort, options.partitions ?? 3));
  const java = [
    '-Xms128m',
    '-Xmx512m',
    `-Dlog4j2.configurationFile=${join(home, 'log4j2.properties')}`,
  ];
  // A cluster id is 16 random bytes, base64url without padding (22 characters).
  const clusterId = randomBytes(16).toString('base64url');
  execFileSync(
    'java',
    [...java, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', config],
    { stdio: 'pipe' },
  );
  const child = spawnChild('kafka', 'java', [...java, '-cp', classpath, 'kafka.Kafka', config], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir },
    cwd: dir,
  });
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(port))) {
    if (!child.running) throw new Error(`Kafka exited before listening:\n${child.tail(40)}`);
    if (Date.now() > deadline) {
      await child.stop('SIGKILL');
      throw new Error(`Kafka not listening on ${port} after 60 s:\n${child.tail(40)}`);
    }
    await sleep(200);
  }
  return {
    bootstrap: `127.0.0.1:${port}`,
    child,
    async close() {
      await child.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Every record on `topic` from the start, read by a consumer group of its
 * own (so the services' group is not disturbed), once at least `atLeast`
 * have arrived and no more came for `quietMs`.
 */
export async function readTopic(
  bootstrap: string,
  topic: string,
  options: { atLeast: number; quietMs?: number; timeoutMs?: number },
): Promise<Message<Buffer, Buffer, Buffer, Buffer>[]> {
  const consumer = new Consumer({
    clientId: 'test-reader',
    groupId: `test-reader-${randomBytes(6).toString('hex')}`,
    bootstrapBrokers: [bootstrap],
    maxWaitTime: 100,
  });
  const records: Message<Buffer, Buffer, Buffer, Buffer>[] = [];
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: 'earliest',
      autocommit: false,
    });
    stream.on('data', (message: Message<Buffer, Buffer, Buffer, Buffer>) => records.push(message));
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    let seen = -1;
    while (records.length < options.atLeast || records.length !== seen) {
      if (Date.now() > deadline) {
        throw new Error(
          `${records.length} records on ${topic}, expected at least ${options.atLeast}`,
        );
      }
      seen = records.length >= options.atLeast ? records.length : -1;
      await sleep(options.quietMs ?? 1000);
    }
    await stream.close();
    return records;
  } finally {
    await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
  }
}
