import { annotateActiveSpan } from '../shared/telemetry/tracer.js';
import type { OwnerDirectory } from './owner-directory.js';
import type { OwnerReadModel } from './owner-read-model.js';

/**
 * Owners for reads from the read model that UserService's events keep, so a
 * page of products needs no call to UserService. Only owners the model does
 * not hold yet are asked of UserService (one BatchGetUsers for the page's
 * misses) and kept: events arrive a moment after a registration, and a
 * product created in that moment, or owned by a user registered before the
 * outbox existed, must still show its owner. Checks for writes (`find`)
 * always ask UserService: CreateProduct needs a fresh answer, not a copy.
 */
export function createReplicatedOwnerDirectory(
  readModel: OwnerReadModel,
  userService: OwnerDirectory,
): OwnerDirectory {
  return {
    find: (id, context) => userService.find(id, context),

    async resolve(ids, context) {
      const owners = await readModel.get(ids);
      const missing = ids.filter((id) => !owners.has(id));
      annotateActiveSpan({ 'shop.owners.replicated': owners.size });
      if (missing.length === 0) return owners;
      const fetched = await userService.resolve(missing, context);
      if (!fetched) return undefined;
      await readModel.remember([...fetched.values()]);
      for (const [id, owner] of fetched) owners.set(id, owner);
      return owners;
    },
  };
}
