import { metrics } from '@opentelemetry/api';
import { meterName } from '../shared/telemetry/rpc-metrics.js';

/**
 * `shop.product.owner_resolutions`: one count per answer that carries owners
 * (GetProduct, ListProducts), by `resolution` (`complete` or `unavailable`),
 * so a dashboard shows degraded reads by version without reading traces
 * (`shop_product_owner_resolutions_total` in Prometheus). The same outcome is
 * `shop.owner_resolution` on the server span.
 */
export interface OwnerResolutionMetrics {
  record(resolved: boolean): void;
}

export function createOwnerResolutionMetrics(): OwnerResolutionMetrics {
  // Created on first use, after the preload (if any) has set the provider.
  let counter: ReturnType<ReturnType<typeof metrics.getMeter>['createCounter']> | undefined;
  const complete = { resolution: 'complete' };
  const unavailable = { resolution: 'unavailable' };
  return {
    record(resolved) {
      counter ??= metrics.getMeter(meterName).createCounter('shop.product.owner_resolutions', {
        description: 'Answers with owners, by whether the owners could be resolved.',
      });
      counter.add(1, resolved ? complete : unavailable);
    },
  };
}
