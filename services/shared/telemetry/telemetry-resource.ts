import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  type Resource,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import type { TelemetryConfig } from './telemetry-config.js';

/**
 * The resource on every span and metric: ours first, then what the
 * environment says (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME) over it.
 * The process detector is left out: its process.owner is the OS user name.
 */
export function telemetryResource(config: TelemetryConfig): Resource {
  return defaultResource()
    .merge(resourceFromAttributes(config.resource))
    .merge(detectResources({ detectors: [hostDetector, envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': config.serviceName }));
}
