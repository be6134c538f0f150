import { isUuid } from './ids.js';
import type { Check } from './validation.js';
import { assertValid } from './validation.js';

export const DEFAULT_PAGE_SIZE = 50;
/** Also the most owners one BatchGetUsers call resolves, so one call covers a page. */
export const MAX_PAGE_SIZE = 100;

/** Where a page starts and how long it is, decoded from a List request. */
export interface Page {
  /** Id of the last item of the previous page; undefined for the first page. */
  after: string | undefined;
  size: number;
}

interface TokenBody {
  v: 1;
  /** Last id returned: keyset pagination, so rows inserted meanwhile never shift a page. */
  after: string;
  /** The filter the token was issued for; a token is only valid with the same filter. */
  scope: string;
}

/**
 * Reads page_size and page_token (AIP-158): 0 means the default, values above
 * the cap are capped, negative sizes and foreign or mangled tokens are
 * INVALID_ARGUMENT. `scope` names the request's filter, e.g. `owner_id=…`.
 */
export function readPage(request: { pageSize: number; pageToken: string }, scope = ''): Page {
  const sizeCheck: Check =
    request.pageSize < 0 ? { field: 'page_size', description: 'must not be negative' } : undefined;
  let after: string | undefined;
  let tokenCheck: Check;
  if (request.pageToken !== '') {
    const body = decode(request.pageToken);
    if (!body) {
      tokenCheck = { field: 'page_token', description: 'is not a token this service issued' };
    } else if (body.scope !== scope) {
      tokenCheck = {
        field: 'page_token',
        description: 'was issued for a different filter; start again without a token',
      };
    } else {
      after = body.after;
    }
  }
  assertValid([sizeCheck, tokenCheck]);
  const size =
    request.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(request.pageSize, MAX_PAGE_SIZE);
  return { after, size };
}

/**
 * The token for the page after `items`, or '' when there is none. Stores
 * fetch `page.size + 1` rows: the extra one only says that more exist.
 */
export function nextPage<T extends { id: string }>(
  rows: readonly T[],
  page: Page,
  scope = '',
): { items: T[]; nextPageToken: string } {
  if (rows.length <= page.size) return { items: [...rows], nextPageToken: '' };
  const items = rows.slice(0, page.size);
  const last = items[items.length - 1];
  if (!last) return { items, nextPageToken: '' };
  const body: TokenBody = { v: 1, after: last.id, scope };
  return { items, nextPageToken: Buffer.from(JSON.stringify(body)).toString('base64url') };
}

function decode(token: string): TokenBody | undefined {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(token)) return undefined;
  try {
    const body: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof body === 'object' &&
      body !== null &&
      (body as TokenBody).v === 1 &&
      typeof (body as TokenBody).after === 'string' &&
      isUuid((body as TokenBody).after) &&
      typeof (body as TokenBody).scope === 'string'
    ) {
      return body as TokenBody;
    }
  } catch {
    // Not JSON: fall through to "not a token this service issued".
  }
  return undefined;
}
