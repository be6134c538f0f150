import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * Channel options for a client of another of our services.
 *
 * grpc-js waits out a reconnect backoff after each failed connection attempt
 * (the subchannel stays in TRANSIENT_FAILURE and calls fail at once): by
 * default 1 s, growing 1.6 times per failure up to 120 s, ±20% jitter. After
 * a 10 s outage that kept a recovered UserService unused for over 3 s. Here
 * the first wait is 100 ms and no wait exceeds 500 ms (600 ms with jitter),
 * so calls find a dependency within a second of it listening again, at the
 * cost of at most two connection attempts a second per client while it is
 * down. (Under Istio the application connects to its sidecar, which stays
 * up; there Envoy's retries and outlier detection decide instead.)
 */
export const dependencyChannelOptions: ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 500,
};
