// A registration and its effect in ProductService as one story in Jaeger,
// on both transports: the compiled entry points with the telemetry preload,
// a real Jaeger, and for Kafka a real broker. ProductService's `process user
// events` span (CONSUMER) links to the registration's span, whose trace
// context travelled in the event (CloudEvents distributed tracing: the
// envelope's traceparent, the `ce_traceparent` header on Kafka); on Kafka the
// relay's `send` span (PRODUCER) links to it too. And the events' metrics on
// both services' /metrics: published, consumed, delay, lag, apply failures
// (a record no consumer can read, written by another producer, counted and
// skipped without stalling its partition).
import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Jaeger,
  type JaegerSpan,
  type JaegerTrace,
  serviceOf,
  startJaeger,
  tagOf,
} from '../../scripts/lib/jaeger.js';
import { type Services, spawnServices } from '../../scripts/lib/spawn-services.js';
import { USER_EVENTS_TOPIC } from '../../services/shared/events/kafka-binding.js';
import { unaryCall } from '../../services/shared/grpc/unary-call.js';
import { createKafkaProducer } from '../../services/user/kafka-producer.js';
import { type KafkaBroker, startKafka } from '../support/kafka.js';
import { callerContext } from './support/caller-context.js';
import { scrape, total } from './support/scrape.js';

/** The first span of `service` named `operation` that links to `traceId`, across recent traces. */
function linkedSpan(
  jaeger: Jaeger,
  service: string,
  operation: string,
  traceId: string,
): Promise<{ trace: JaegerTrace; span: JaegerSpan; link: JaegerSpan['references'][number] }> {
  return vi.waitFor(
    async () => {
      for (const trace of await jaeger.traces(service, 100)) {
        for (const span of trace.spans) {
          if (span.operationName !== operation || serviceOf(trace, span) !== service) continue;
          const link = span.references.find((ref) => ref.traceID === traceId);
          if (link) return { trace, span, link };
        }
      }
      throw new Error(`no ${service} span "${operation}" links to trace ${traceId}`);
    },
    { timeout: 15_000, interval: 200 },
  );
}

describe.each(['grpc', 'kafka'] as const)('the %s transport', (transport) => {
  let jaeger: Jaeger;
  let kafka: KafkaBroker | undefined;
  let services: Services;

  beforeAll(async () => {
    [jaeger, kafka] = await Promise.all([
      startJaeger(),
      transport === 'kafka' ? startKafka({ partitions: 3 }) : undefined,
    ]);
    services = await spawnServices({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        ...(kafka ? { KAFKA_BROKERS: kafka.bootstrap } : {}),
      },
    });
  });

  afterAll(async () => {
    await services?.stop();
    await Promise.all([jaeger?.stop(), kafka?.close()]);
  });

  it("links ProductService's apply of a registration to the registration's trace", async () => {
    const caller = callerContext();
    const metadata = new Metadata();
    metadata.set('traceparent', caller.traceparent);
    const suffix = `${transport}_${Date.now().toString(36)}`;
    const { user } = await unaryCall(
      services.userClient,
      'createUser',
      { username: `ada_${suffix}`, email: `ada.${suffix}@example.com`, requestId: '' },
      {},
      metadata,
    );
    expect(user?.id).toBeTruthy();

    const registration = await jaeger.waitForTrace(caller.traceId, (trace) =>
      trace.spans.some((span) => span.operationName === 'grpc.shop.user.v1.UserService/CreateUser'),
    );
    const { trace, span, link } = await linkedSpan(
      jaeger,
      'product-service',
      'process user events',
      caller.traceId,
    );
    // Its own trace (a batch may serve many registrations), linked, not parented.
    expect(trace.traceID).not.toBe(caller.traceId);
    expect(link.refType).toBe('FOLLOWS_FROM');
    // The link points at the registration's span in UserService.
    const target = registration.spans.find((s) => s.spanID === link.spanID);
    expect(target && serviceOf(registration, target)).toBe('user-service');
    expect(tagOf(span, 'span.kind')).toBe('consumer');
    expect(tagOf(span, 'messaging.system')).toBe(transport);
    expect(tagOf(span, 'messaging.operation.type')).toBe('process');
    expect(String(tagOf(span, 'messaging.destination.name'))).toMatch(
      transport === 'kafka' ? `kafka:${USER_EVENTS_TOPIC}/` : /^grpc:/,
    );
    // No personal data on the way: the e-mail is in no tag of either trace.
    for (const t of [registration, trace]) {
      expect(JSON.stringify(t)).not.toContain(`ada.${suffix}@example.com`);
    }

    if (transport !== 'kafka') return;
    const relay = await linkedSpan(
      jaeger,
      'user-service',
      `send ${USER_EVENTS_TOPIC}`,
      caller.traceId,
    );
    expect(relay.link.spanID).toBe(link.spanID);
    expect(tagOf(relay.span, 'span.kind')).toBe('producer');
    expect(tagOf(relay.span, 'messaging.system')).toBe('kafka');
    expect(tagOf(relay.span, 'messaging.destination.name')).toBe(USER_EVENTS_TOPIC);
  });

  it('counts events published, consumed and malformed, their delay and the lag', async () => {
    const labels = { transport };
    const consumed = async () =>
      total(await scrape(services.product.metricsUrl), 'shop_user_events_consumed_total', {
        ...labels,
        outcome: 'applied',
      });
    const before = await consumed();
    if (kafka) {
      // Another producer's record without the CloudEvents attributes, ahead of the next event.
      const foreign = createKafkaProducer(
        { brokers: [kafka.bootstrap], topic: USER_EVENTS_TOPIC },
        'foreign-producer',
      );
      await foreign.send([{ key: Buffer.from('x'), value: Buffer.from('{}'), headers: new Map() }]);
      await foreign.close();
    }
    const suffix = `metrics_${transport}_${Date.now().toString(36)}`;
    await unaryCall(services.userClient, 'createUser', {
      username: suffix,
      email: `${suffix}@example.com`,
      requestId: '',
    });
    await expect.poll(consumed, { timeout: 15_000, interval: 200 }).toBe(before + 1);

    const product = await scrape(services.product.metricsUrl);
    const user = await scrape(services.user.metricsUrl);
    // One event per registration in this file (two), each applied once.
    expect(before + 1).toBe(2);
    expect(
      total(product, 'shop_user_events_consumed_total', { ...labels, outcome: 'skipped' }),
    ).toBe(0);
    expect(total(product, 'shop_user_events_delay_count', labels)).toBe(2);
    expect(total(product, 'shop_user_events_delay_bucket', { ...labels, le: '+Inf' })).toBe(2);
    expect(
      total(product, 'shop_user_events_apply_failures_total', { ...labels, outcome: 'apply' }),
    ).toBe(0);
    if (!kafka) {
      // The embedded stream has no broker: nothing is published, there is no lag to ask.
      expect(total(user, 'shop_user_events_published_total')).toBe(0);
      return;
    }
    expect(
      total(user, 'shop_user_events_published_total', {
        ...labels,
        messaging_destination_name: USER_EVENTS_TOPIC,
      }),
    ).toBe(2);
    expect(
      total(product, 'shop_user_events_apply_failures_total', { ...labels, outcome: 'malformed' }),
    ).toBe(1);
    // The group's lag, read every 5 s: every record committed, the malformed one too.
    await expect
      .poll(
        async () =>
          (await scrape(services.product.metricsUrl)).find(
            (s) => s.name === 'shop_user_events_lag' && s.labels.transport === 'kafka',
          )?.value,
        { timeout: 15_000, interval: 500 },
      )
      .toBe(0);
  });
});
