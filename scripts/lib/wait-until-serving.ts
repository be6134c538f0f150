import { credentials, Metadata } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus,
  HealthClient,
} from '../../services/gen/grpc/health/v1/health.pb.js';

export interface WaitOptions {
  /** Give up after this long. Default: 30 s. */
  timeoutMs?: number;
  /** Time between checks. Default: 200 ms. */
  intervalMs?: number;
  /** A reason to stop waiting now (the process died, Ctrl-C), or undefined to go on. */
  abandon?: () => string | undefined;
}

/**
 * Polls grpc.health.v1.Health/Check (the server as a whole) at `address`
 * until it answers SERVING. Rejects on timeout or as soon as `abandon` gives
 * a reason. For launchers and tests that start a service and must know when
 * it takes calls.
 */
export async function waitUntilServing(address: string, options: WaitOptions = {}): Promise<void> {
  const { timeoutMs = 30_000, intervalMs = 200, abandon = () => undefined } = options;
  const health = new HealthClient(address, credentials.createInsecure());
  const giveUpAt = Date.now() + timeoutMs;
  try {
    for (;;) {
      const serving = await new Promise<boolean>((done) =>
        health.check(
          { service: '' },
          new Metadata(),
          { deadline: Date.now() + 1000 },
          (error, response) =>
            done(!error && response.status === HealthCheckResponse_ServingStatus.SERVING),
        ),
      );
      if (serving) return;
      const reason =
        abandon() ?? (Date.now() > giveUpAt ? `not SERVING after ${timeoutMs} ms` : undefined);
      if (reason) throw new Error(`${address}: ${reason}`);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  } finally {
    health.close();
  }
}
