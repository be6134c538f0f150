import { expect } from 'vitest';
import {
  describeTrace,
  type JaegerSpan,
  type JaegerTrace,
  parentOf,
  serviceOf,
  tagOf,
} from '../../../scripts/lib/jaeger.js';

/** One link of an expected parent chain. */
export interface Link {
  service: 'product-service' | 'user-service';
  operation: string;
  kind?: 'server' | 'client' | 'internal';
}

/** The span matching `link` whose parent is `parentId`, if the trace has one. */
function childOf(trace: JaegerTrace, parentId: string, link: Link): JaegerSpan | undefined {
  return trace.spans.find(
    (span) =>
      parentOf(span) === parentId &&
      span.operationName === link.operation &&
      serviceOf(trace, span) === link.service &&
      (link.kind === undefined || tagOf(span, 'span.kind') === link.kind),
  );
}

/** Whether every link is present, each the direct child of the one before, under `rootParentId`. */
export function hasChain(
  trace: JaegerTrace,
  rootParentId: string,
  chain: readonly Link[],
): boolean {
  let parent = rootParentId;
  for (const link of chain) {
    const span = childOf(trace, parent, link);
    if (!span) return false;
    parent = span.spanID;
  }
  return true;
}

/** Asserts the chain and returns its spans, in order. */
export function expectChain(
  trace: JaegerTrace,
  rootParentId: string,
  chain: readonly Link[],
): JaegerSpan[] {
  const spans: JaegerSpan[] = [];
  let parent = rootParentId;
  for (const link of chain) {
    const span = childOf(trace, parent, link);
    expect(
      span,
      `no ${link.service} span "${link.operation}" under ${parent} in:\n${describeTrace(trace)}`,
    ).toBeDefined();
    if (!span) break;
    spans.push(span);
    parent = span.spanID;
  }
  return spans;
}

export const grpcOp = (service: 'user' | 'product', method: string) =>
  `grpc.shop.${service}.v1.${service === 'user' ? 'User' : 'Product'}Service/${method}`;

/** caller → ProductService server → <step> → UserService client → UserService server → SELECT users. */
export function ownerChain(productMethod: string, step: string, userMethod: string): Link[] {
  return [
    { service: 'product-service', operation: grpcOp('product', productMethod), kind: 'server' },
    { service: 'product-service', operation: step, kind: 'internal' },
    { service: 'product-service', operation: grpcOp('user', userMethod), kind: 'client' },
    { service: 'user-service', operation: grpcOp('user', userMethod), kind: 'server' },
    { service: 'user-service', operation: 'SELECT users', kind: 'client' },
  ];
}
