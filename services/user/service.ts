import type { User as ProtoUser, UserServiceService } from '../gen/shop/user/v1/user_service.pb.js';
import { createOnce } from '../shared/api/create-once.js';
import { newId } from '../shared/api/ids.js';
import { MAX_PAGE_SIZE, nextPage, readPage } from '../shared/api/page-token.js';
import { assertValid, checkRepeated, checkUuid } from '../shared/api/validation.js';
import { alreadyExists, notFound } from '../shared/errors/server-error.js';
import { UniqueViolationError } from '../shared/errors/unique-violation-error.js';
import type { ServiceImplementation } from '../shared/grpc/bind-service.js';
import type { OutboxSignal } from './outbox-signal.js';
import type { User, UserStore } from './store.js';
import { parseCreateUser } from './validation.js';

export interface UserServiceDeps {
  store: UserStore;
  /** Told of every event stored, so this process's event streams send it at once. */
  outbox?: OutboxSignal;
  /** Clock for creation times. Default: the system clock. */
  now?: () => Date;
}

/** A full page of products resolves its owners in one call, so the cap is the page size cap. */
export const MAX_BATCH_IDS = MAX_PAGE_SIZE;

const toProto = (user: User): ProtoUser => ({
  id: user.id,
  username: user.username,
  email: user.email,
  createTime: user.createTime,
});

/** A unique column's conflict as the error a caller can act on; the value is never echoed. */
function conflict(error: UniqueViolationError): Error {
  switch (error.column) {
    case 'username':
      return alreadyExists(
        'a user with this username already exists',
        'USERNAME_TAKEN',
        'username',
      );
    case 'email':
      return alreadyExists('a user with this email already exists', 'EMAIL_TAKEN', 'email');
    default:
      return error;
  }
}

/** shop.user.v1.UserService over a UserStore. */
export function createUserService(
  deps: UserServiceDeps,
): ServiceImplementation<UserServiceService> {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());

  return {
    async createUser(request) {
      const input = parseCreateUser(request);
      try {
        const { entity } = await createOnce({
          requestId: input.requestId,
          findByRequestId: (requestId) => store.findByRequestId(requestId),
          sameRequest: (user) => user.username === input.username && user.email === input.email,
          async insert() {
            const createTime = now();
            const user = {
              id: newId(),
              username: input.username,
              email: input.email,
              createTime,
            };
            await store.insert(user, input.requestId);
            deps.outbox?.notify();
            return user;
          },
        });
        return { user: toProto(entity) };
      } catch (error) {
        throw error instanceof UniqueViolationError ? conflict(error) : error;
      }
    },

    async getUser(request) {
      assertValid([checkUuid('id', request.id)]);
      const user = await store.get(request.id);
      if (!user) throw notFound({ type: 'shop.user.v1.User', name: request.id });
      return { user: toProto(user) };
    },

    async batchGetUsers(request) {
      const { ids } = request;
      assertValid(
        checkRepeated('ids', ids, { min: 1, max: MAX_BATCH_IDS, noun: 'id' }, (field, id) =>
          checkUuid(field, id),
        ),
      );
      const unique = [...new Set(ids)];
      const found = new Map((await store.getMany(unique)).map((user) => [user.id, user]));
      const users: ProtoUser[] = [];
      const notFoundIds: string[] = [];
      for (const id of unique) {
        const user = found.get(id);
        if (user) users.push(toProto(user));
        else notFoundIds.push(id);
      }
      return { users, notFoundIds };
    },

    async listUsers(request) {
      const page = readPage(request);
      const { items, nextPageToken } = nextPage(await store.list(page.after, page.size + 1), page);
      return { users: items.map(toProto), nextPageToken };
    },
  };
}
