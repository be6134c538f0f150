// A steady client through the lab's gateway, as real users would be while a
// rollout runs: reads (ListProducts) and creates (CreateProduct, signed in as
// the owner) at fixed rates, every call with its own deadline, every answer
// counted by gRPC status. Paced by the clock, not by answers, so a slow or
// failing canary does not slow the load that measures it.
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { ProductServiceClient } from '../../services/gen/shop/product/v1/product_service.pb.js';

export interface SteadyCounts {
  total: number;
  failed: number;
  /** `<method> <status>` → calls. */
  byOutcome: Record<string, number>;
  /** Milliseconds since the start of the first and the last failed call. */
  firstFailureMs?: number;
  lastFailureMs?: number;
  seconds: number;
}

export interface SteadyClient {
  /** Stops sending, waits for the calls in flight, and counts. */
  stop(): Promise<SteadyCounts>;
}

export function startSteadyClient(
  gateway: string,
  options: {
    readsPerSecond: number;
    createsPerSecond: number;
    /** The owner of the products created, and a token for them. */
    ownerId: string;
    authorization: string;
    deadlineMs?: number;
  },
): SteadyClient {
  const client = new ProductServiceClient(gateway, credentials.createInsecure());
  const started = performance.now();
  const counts: SteadyCounts = { total: 0, failed: 0, byOutcome: {}, seconds: 0 };
  const inFlight = new Set<Promise<void>>();
  let sequence = 0;

  const track = (method: string, send: (done: (error: ServiceError | null) => void) => void) => {
    const at = performance.now() - started;
    const call = new Promise<void>((resolve) => {
      send((error) => {
        const code = error ? status[error.code] : 'OK';
        counts.total += 1;
        counts.byOutcome[`${method} ${code}`] = (counts.byOutcome[`${method} ${code}`] ?? 0) + 1;
        if (error) {
          counts.failed += 1;
          counts.firstFailureMs ??= at;
          counts.lastFailureMs = at;
        }
        resolve();
      });
    });
    inFlight.add(call);
    void call.then(() => inFlight.delete(call));
  };
  const deadline = () => ({ deadline: Date.now() + (options.deadlineMs ?? 5000) });

  const read = () =>
    track('ListProducts', (done) =>
      client.listProducts(
        { pageSize: 10, pageToken: '', ownerId: '' },
        new Metadata(),
        deadline(),
        (error) => done(error),
      ),
    );
  const create = () => {
    const metadata = new Metadata();
    metadata.set('authorization', options.authorization);
    sequence += 1;
    track('CreateProduct', (done) =>
      client.createProduct(
        {
          name: `Steady lamp ${sequence}`,
          ownerId: options.ownerId,
          price: { currencyCode: 'EUR', units: 5n, nanos: 0 },
          requestId: `steady-${process.pid}-${Date.now()}-${sequence}`,
        },
        metadata,
        deadline(),
        (error) => done(error),
      ),
    );
  };
  const timers = [
    setInterval(read, 1000 / options.readsPerSecond),
    setInterval(create, 1000 / options.createsPerSecond),
  ];

  return {
    async stop() {
      for (const timer of timers) clearInterval(timer);
      counts.seconds = (performance.now() - started) / 1000;
      await Promise.all([...inFlight]);
      client.close();
      return counts;
    },
  };
}
