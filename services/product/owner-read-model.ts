import type { Owner } from '../gen/shop/product/v1/product_service.pb.js';

/** One event as the read model applies it: its place in its stream, and the owner it describes. */
export interface OwnerChange {
  /** Position in the stream; the model applies each position at most once. */
  position: bigint;
  /** The owner as the event describes it; undefined for an event the model does not use. */
  owner: Owner | undefined;
}

/** What one apply() did: `applied` new events, `skipped` already applied before. */
export interface ApplyResult {
  applied: number;
  skipped: number;
  /** The stream's position after the batch. */
  position: bigint;
}

/**
 * ProductService's copy of owners' public profiles, kept by UserService's
 * events, and where each event stream was applied up to.
 */
export interface OwnerReadModel {
  /** The owners among `ids` the model holds. */
  get(ids: readonly string[]): Promise<Map<string, Owner>>;
  /**
   * Keeps owners fetched from UserService for owners the events had not
   * brought yet. An owner already held is left as it is: an event is never
   * older than the row it would overwrite, a fetched answer may be.
   */
  remember(owners: readonly Owner[]): Promise<void>;
  /** The position of the last event applied from `stream`; 0 when none was. */
  positionOf(stream: string): Promise<bigint>;
  /**
   * Applies a batch of one stream in one transaction with the stream's new
   * position: events at or below the stored position are skipped, so a batch
   * delivered twice (a consumer killed after the commit, before it knew; two
   * replicas following one stream) changes nothing the second time.
   */
  apply(stream: string, changes: readonly OwnerChange[]): Promise<ApplyResult>;
}
