import type { CreateUserRequest } from '../gen/shop/user/v1/user_service.pb.js';
import { assertValid, type Check, checkRequestId } from '../shared/api/validation.js';

const USERNAME = /^[a-z0-9_.-]{3,32}$/;
/**
 * Practical syntax, as browsers check type=email: a dot-atom local part and a
 * domain of at least two DNS labels. Deliverability is not our business.
 */
const EMAIL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function checkUsername(value: string): Check {
  if (value === '') return { field: 'username', description: 'is required' };
  if (USERNAME.test(value)) return undefined;
  return {
    field: 'username',
    description: "must be 3 to 32 characters of lower-case letters, digits, '_', '.' and '-'",
  };
}

export function checkEmail(value: string): Check {
  if (value === '') return { field: 'email', description: 'is required' };
  const [local = ''] = value.split('@');
  if (value.length <= 254 && local.length <= 64 && EMAIL.test(value)) return undefined;
  return {
    field: 'email',
    description: 'must be a valid e-mail address of at most 254 characters',
  };
}

export interface NewUser {
  username: string;
  /** Lower-cased. */
  email: string;
  requestId: string | undefined;
}

/** The request as a new user, or INVALID_ARGUMENT naming every bad field. */
export function parseCreateUser(request: CreateUserRequest): NewUser {
  assertValid([
    checkUsername(request.username),
    checkEmail(request.email),
    checkRequestId('request_id', request.requestId),
  ]);
  return {
    username: request.username,
    email: request.email.toLowerCase(),
    requestId: request.requestId || undefined,
  };
}
