import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../services/shared/process/config.js';
import { summarizeSql } from '../../services/shared/telemetry/sql-summary.js';
import {
  parseResourceAttributes,
  readTelemetryConfig,
} from '../../services/shared/telemetry/telemetry-config.js';

const product = { serviceName: 'product-service', metricsPort: 9465, packageVersion: '0.1.0' };

describe('readTelemetryConfig', () => {
  it("defaults: the service's own name and metrics port, no span export", () => {
    expect(readTelemetryConfig({}, product)).toEqual({
      disabled: false,
      serviceName: 'product-service',
      resource: {
        'service.version': '0.1.0',
        'deployment.environment.name': 'development',
        'deployment.environment': 'development',
      },
      traces: undefined,
      metrics: { port: 9465 },
    });
    const user = readTelemetryConfig({}, { serviceName: 'user-service', metricsPort: 9464 });
    expect(user.serviceName).toBe('user-service');
    expect(user.metrics).toEqual({ port: 9464 });
    expect(user.resource['service.version']).toBeUndefined();
  });

  it('takes service.version from OTEL_RESOURCE_ATTRIBUTES, then SERVICE_VERSION, then package.json', () => {
    const version = (env: Record<string, string>) =>
      readTelemetryConfig(env, product).resource['service.version'];
    expect(version({ SERVICE_VERSION: '2.0.0' })).toBe('2.0.0');
    expect(
      version({ SERVICE_VERSION: '2.0.0', OTEL_RESOURCE_ATTRIBUTES: 'service.version=2.1.0' }),
    ).toBe('2.1.0');
  });

  it('adds the pod, namespace and node the Deployment passes down', () => {
    const { resource } = readTelemetryConfig(
      { K8S_POD_NAME: 'p-1', K8S_NAMESPACE_NAME: 'shop', K8S_NODE_NAME: 'n-1' },
      product,
    );
    expect(resource).toMatchObject({
      'k8s.pod.name': 'p-1',
      'k8s.namespace.name': 'shop',
      'k8s.node.name': 'n-1',
    });
  });

  it('exports spans only with an OTLP endpoint, parent-based with the ratio of OTEL_TRACES_SAMPLER_ARG', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317' };
    expect(readTelemetryConfig(env, product).traces).toEqual({
      endpoint: 'http://collector:4317',
      samplerRatio: 1,
      batch: {
        maxQueueSize: 16_384,
        maxExportBatchSize: 1024,
        scheduledDelayMillis: 1000,
        exportTimeoutMillis: 10_000,
      },
    });
    expect(
      readTelemetryConfig({ ...env, OTEL_TRACES_SAMPLER_ARG: '0.25' }, product).traces
        ?.samplerRatio,
    ).toBe(0.25);
    // An explicit sampler is the SDK's to apply.
    expect(
      readTelemetryConfig({ ...env, OTEL_TRACES_SAMPLER: 'always_on' }, product).traces
        ?.samplerRatio,
    ).toBeUndefined();
    expect(
      readTelemetryConfig({ ...env, OTEL_TRACES_EXPORTER: 'none' }, product).traces,
    ).toBeUndefined();
    expect(
      readTelemetryConfig({ ...env, OTEL_BSP_MAX_QUEUE_SIZE: '100' }, product).traces?.batch
        .maxQueueSize,
    ).toBe(100);
  });

  it('turns metrics off with OTEL_METRICS_EXPORTER=none and everything off with OTEL_SDK_DISABLED', () => {
    expect(readTelemetryConfig({ OTEL_METRICS_EXPORTER: 'none' }, product).metrics).toBeUndefined();
    expect(readTelemetryConfig({ METRICS_PORT: '9999' }, product).metrics).toEqual({ port: 9999 });
    expect(readTelemetryConfig({ OTEL_SDK_DISABLED: 'true' }, product).disabled).toBe(true);
  });

  it.each([
    ['METRICS_PORT', '0'],
    ['METRICS_PORT', 'http'],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5'],
    ['OTEL_METRICS_EXPORTER', 'otlp'],
    ['OTEL_SDK_DISABLED', 'yes'],
  ])('rejects %s=%s, naming the variable', (name, value) => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', [name]: value };
    expect(() => readTelemetryConfig(env, product)).toThrow(ConfigError);
    expect(() => readTelemetryConfig(env, product)).toThrow(name);
  });
});

it('parses OTEL_RESOURCE_ATTRIBUTES as the spec writes it', () => {
  expect(parseResourceAttributes('a=1, b = two%20words ,broken,=x,c=%E0')).toEqual({
    a: '1',
    b: 'two words',
  });
});

describe('summarizeSql', () => {
  it.each([
    ['SELECT id, email FROM users WHERE email = ?', 'SELECT users', 'users'],
    ["select * from products where name = 'Lamp' limit 50", 'SELECT products', 'products'],
    ['INSERT INTO products (id, name) VALUES (?, ?)', 'INSERT products', 'products'],
    ['UPDATE users SET username = ? WHERE id = ?', 'UPDATE users', 'users'],
    ['DELETE FROM products WHERE id = $1', 'DELETE products', 'products'],
    [
      'CREATE TABLE IF NOT EXISTS schema_migrations (v INTEGER)',
      'CREATE schema_migrations',
      'schema_migrations',
    ],
    ['SELECT updated_at, from_date FROM "orders"', 'SELECT orders', 'orders'],
    ['BEGIN', 'BEGIN', undefined],
  ])('%s → %s', (sql, summary, table) => {
    expect(summarizeSql(sql)).toMatchObject({ summary, table });
  });

  it('never carries a literal or a parameter', () => {
    const { summary } = summarizeSql("SELECT * FROM users WHERE email = 'ada@example.com'");
    expect(summary).toBe('SELECT users');
  });
});
