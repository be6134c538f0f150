import {
  type Owner,
  OwnerResolution,
  type ProductServiceService,
  type Product as ProtoProduct,
} from '../gen/shop/product/v1/product_service.pb.js';
import { createOnce } from '../shared/api/create-once.js';
import { newId } from '../shared/api/ids.js';
import { nextPage, readPage } from '../shared/api/page-token.js';
import { assertValid, checkUuid } from '../shared/api/validation.js';
import { failedPrecondition, notFound, permissionDenied } from '../shared/errors/server-error.js';
import type { ServiceImplementation } from '../shared/grpc/bind-service.js';
import { annotateActiveSpan } from '../shared/telemetry/tracer.js';
import { gatewaySubject } from './gateway-subject.js';
import type { OwnerDirectory } from './owner-directory.js';
import { createOwnerResolutionMetrics } from './owner-resolution-metrics.js';
import type { Product, ProductStore } from './store.js';
import { type NewProduct, parseCreateProduct } from './validation.js';

export interface ProductServiceDeps {
  store: ProductStore;
  owners: OwnerDirectory;
  /** Clock for creation times. Default: the system clock. */
  now?: () => Date;
}

function toProto(product: Product, owner: Owner | undefined): ProtoProduct {
  return {
    id: product.id,
    name: product.name,
    ownerId: product.ownerId,
    price: { ...product.price },
    createTime: product.createTime,
    owner,
  };
}

const samePrice = (a: Product, b: NewProduct) =>
  a.price.currencyCode === b.price.currencyCode &&
  a.price.units === b.price.units &&
  a.price.nanos === b.price.nanos;

/** shop.product.v1.ProductService over a ProductStore, resolving owners through UserService. */
export function createProductService(
  deps: ProductServiceDeps,
): ServiceImplementation<ProductServiceService> {
  const { store, owners } = deps;
  const now = deps.now ?? (() => new Date());
  const resolutions = createOwnerResolutionMetrics();

  /** Products with their owners, or without them when UserService cannot answer. */
  async function withOwners(
    products: readonly Product[],
    context: Parameters<OwnerDirectory['resolve']>[1],
  ) {
    const resolved = await owners.resolve([...new Set(products.map((p) => p.ownerId))], context);
    // On the server span too, so degraded answers can be searched for in Jaeger.
    annotateActiveSpan({ 'shop.owner_resolution': resolved ? 'complete' : 'unavailable' });
    resolutions.record(resolved !== undefined);
    return {
      products: products.map((p) => toProto(p, resolved?.get(p.ownerId))),
      ownerResolution: resolved
        ? OwnerResolution.OWNER_RESOLUTION_COMPLETE
        : OwnerResolution.OWNER_RESOLUTION_UNAVAILABLE,
    };
  }

  return {
    async createProduct(request, context) {
      const input = parseCreateProduct(request);
      // Behind the gateway a product is created by its owner: the token's
      // subject must be the owner_id. The service checks it, not the
      // gateway: the owner_id is in the request body, which the gateway does
      // not parse. Without the header (not through the gateway) nothing
      // changes; a replay is checked as well, so no one learns of another
      // owner's request ids.
      const subject = gatewaySubject(context.metadata);
      if (subject !== undefined && subject !== input.ownerId) {
        throw permissionDenied(
          'owner_id must be your own user id (the subject of your token)',
          'OWNER_NOT_CALLER',
        );
      }
      let owner: Owner | undefined;
      const { entity, replayed } = await createOnce({
        requestId: input.requestId,
        findByRequestId: (requestId) => store.findByRequestId(requestId),
        sameRequest: (product) =>
          product.name === input.name &&
          product.ownerId === input.ownerId &&
          samePrice(product, input),
        async insert() {
          // Only a new product needs its owner checked: a replay was checked
          // when it was created, and must answer even while UserService is down.
          owner = await owners.find(input.ownerId, context);
          if (!owner) {
            throw failedPrecondition('the owner does not exist', 'OWNER_NOT_FOUND', [
              {
                type: 'OWNER_EXISTS',
                subject: `users/${input.ownerId}`,
                description: 'owner_id must be the id of an existing user',
              },
            ]);
          }
          const createTime = now();
          const product: Product = {
            id: newId(),
            name: input.name,
            ownerId: input.ownerId,
            price: input.price,
            createTime,
          };
          await store.insert(product, input.requestId);
          return product;
        },
      });
      if (!replayed) return { product: toProto(entity, owner) };
      const { products } = await withOwners([entity], context);
      return { product: products[0] };
    },

    async getProduct(request, context) {
      assertValid([checkUuid('id', request.id)]);
      const product = await store.get(request.id);
      if (!product) throw notFound({ type: 'shop.product.v1.Product', name: request.id });
      const { products, ownerResolution } = await withOwners([product], context);
      return { product: products[0], ownerResolution };
    },

    async listProducts(request, context) {
      const ownerId = request.ownerId || undefined;
      assertValid([checkUuid('owner_id', request.ownerId, false)]);
      const scope = ownerId ? `owner_id=${ownerId}` : '';
      const page = readPage(request, scope);
      const rows = await store.list(page.after, page.size + 1, ownerId);
      const { items, nextPageToken } = nextPage(rows, page, scope);
      return { ...(await withOwners(items, context)), nextPageToken };
    },
  };
}
