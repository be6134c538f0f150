import type { Seed } from './seed-services.js';

/** One RPC under load. */
export interface BenchScenario {
  /** Row name, e.g. `GetUser`. */
  rpc: string;
  service: 'user' | 'product';
  /** The full method name ghz calls. */
  call: string;
  /** The request (proto JSON); `run` makes creates unique across runs. */
  data(run: string): unknown;
  /** The bare baseline answers it too, so the row gets ratios. */
  baseline: boolean;
  /** Run at half the baseline's saturation rate of `baselineOf`, for p99 at a load both can carry. */
  halfRateOf?: string;
}

/**
 * The benchmarked RPCs: the three with a baseline first (the issue's
 * targets), then the rest of the API's hot paths, measured without one.
 */
export function benchScenarios(seed: Seed): BenchScenario[] {
  const getUser = { id: seed.ownerIds[0] };
  return [
    {
      rpc: 'GetUser',
      service: 'user',
      call: 'shop.user.v1.UserService/GetUser',
      data: () => getUser,
      baseline: true,
    },
    {
      rpc: 'GetUser at half rate',
      service: 'user',
      call: 'shop.user.v1.UserService/GetUser',
      data: () => getUser,
      baseline: true,
      halfRateOf: 'GetUser',
    },
    {
      rpc: 'ListProducts (50/page)',
      service: 'product',
      call: 'shop.product.v1.ProductService/ListProducts',
      data: () => ({ page_size: 50 }),
      baseline: true,
    },
    {
      rpc: 'CreateUser',
      service: 'user',
      call: 'shop.user.v1.UserService/CreateUser',
      data: (run) => ({
        username: `${run}_{{.RequestNumber}}`,
        email: `${run}.{{.RequestNumber}}@example.com`,
      }),
      baseline: true,
    },
    {
      rpc: 'BatchGetUsers (100 ids)',
      service: 'user',
      call: 'shop.user.v1.UserService/BatchGetUsers',
      data: () => ({ ids: seed.ownerIds.slice(0, 100) }),
      baseline: false,
    },
    {
      rpc: 'GetProduct',
      service: 'product',
      call: 'shop.product.v1.ProductService/GetProduct',
      data: () => ({ id: seed.productId }),
      baseline: false,
    },
    {
      rpc: 'CreateProduct',
      service: 'product',
      call: 'shop.product.v1.ProductService/CreateProduct',
      data: () => ({
        name: 'bench',
        owner_id: seed.ownerIds[1],
        price: { currency_code: 'EUR', units: 1 },
      }),
      baseline: false,
    },
  ];
}
