import { type ServiceError as GrpcServiceError, type Metadata, status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { decodeStatus } from '../../../scripts/lib/decode-status.js';
import { errorLimits } from './error-limits.js';
import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
  ServerError,
  unavailable,
} from './server-error.js';
import { toGrpcStatus } from './to-grpc-status.js';

const method = '/shop.user.v1.UserService/CreateUser';

/** A logger that keeps its lines, to check what reaches the log. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

/** What a client would see: the status object as a grpc-js ServiceError. */
function asClientError(error: unknown, log = capturingLogger().log) {
  const sent = toGrpcStatus(error, method, log);
  const clientError = Object.assign(new Error(sent.details), {
    code: sent.code,
    details: sent.details,
    metadata: sent.metadata as Metadata,
  }) as GrpcServiceError;
  return decodeStatus(clientError);
}

describe('toGrpcStatus', () => {
  it('sends INVALID_ARGUMENT with a BadRequest listing every field', () => {
    const decoded = asClientError(
      invalidArgument([
        { field: 'username', description: 'is required' },
        { field: 'email', description: 'must be a valid e-mail address' },
      ]),
    );
    expect(decoded.code).toBe(status.INVALID_ARGUMENT);
    expect(decoded.message).toBe('invalid request: username, email');
    expect(decoded.errorInfo).toMatchObject({
      reason: 'INVALID_FIELDS',
      domain: 'shop.user.v1.UserService',
    });
    expect(decoded.badRequest?.fieldViolations.map((v) => [v.field, v.description])).toEqual([
      ['username', 'is required'],
      ['email', 'must be a valid e-mail address'],
    ]);
  });

  it('sends NOT_FOUND with the resource, ALREADY_EXISTS with the field, FAILED_PRECONDITION with violations', () => {
    expect(
      asClientError(notFound({ type: 'shop.user.v1.User', name: 'u1' })).resourceInfo,
    ).toMatchObject({
      resourceType: 'shop.user.v1.User',
      resourceName: 'u1',
    });
    const taken = asClientError(alreadyExists('username taken', 'USERNAME_TAKEN', 'username'));
    expect(taken.code).toBe(status.ALREADY_EXISTS);
    expect(taken.errorInfo).toMatchObject({
      reason: 'USERNAME_TAKEN',
      metadata: { field: 'username' },
    });
    const precondition = asClientError(
      failedPrecondition('no owner', 'OWNER_NOT_FOUND', [
        { type: 'OWNER_EXISTS', subject: 'users/x', description: 'd' },
      ]),
    );
    expect(precondition.code).toBe(status.FAILED_PRECONDITION);
    expect(precondition.preconditionFailure?.violations).toEqual([
      { type: 'OWNER_EXISTS', subject: 'users/x', description: 'd' },
    ]);
  });

  it('sends UNAVAILABLE with a retry delay and logs the cause, not to the caller', () => {
    const { log, lines } = capturingLogger();
    const decoded = asClientError(
      unavailable('user service is unavailable', 'USER_SERVICE_UNAVAILABLE', {
        cause: new Error('connect ECONNREFUSED 10.0.0.7:50051'),
        retryDelayMs: 1500,
      }),
      log,
    );
    expect(decoded.code).toBe(status.UNAVAILABLE);
    expect(decoded.message).not.toContain('ECONNREFUSED');
    expect(decoded.retryInfo?.retryDelay).toEqual({ seconds: 1n, nanos: 500_000_000 });
    expect(JSON.stringify(lines)).toContain('ECONNREFUSED');
  });

  it('hides unexpected errors behind a bare INTERNAL and logs them without driver extras', () => {
    const { log, lines } = capturingLogger();
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
      detail: 'Key (email)=(ada@example.com) already exists.',
    });
    const decoded = asClientError(driverError, log);
    expect(decoded.code).toBe(status.INTERNAL);
    expect(decoded.message).toBe('internal error');
    expect(decoded.errorInfo?.reason).toBe('INTERNAL');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, method, err: { code: '23505' } });
    expect(JSON.stringify(lines)).not.toContain('ada@example.com');
  });

  it('bounds any error: a few violations listed, the rest counted, every text cut', () => {
    const violations = Array.from({ length: 10_000 }, (_, i) => ({
      field: `ids[${i}]`,
      description: `must be a lower-case UUID ${'\u202e'.repeat(5000)}`,
    }));
    const sent = toGrpcStatus(invalidArgument(violations), method, capturingLogger().log);
    const [details] = (sent.metadata as Metadata).get('grpc-status-details-bin') as Buffer[];
    expect(details?.length).toBeLessThanOrEqual(errorLimits.statusBytes);
    expect(sent.details?.length).toBeLessThanOrEqual(errorLimits.messageChars);
    expect(sent.details).toBe(
      `invalid request: ${violations
        .slice(0, 20)
        .map((v) => v.field)
        .join(', ')} and 9980 more`,
    );
    const decoded = asClientError(invalidArgument(violations));
    const listed = decoded.badRequest?.fieldViolations ?? [];
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.length).toBeLessThanOrEqual(errorLimits.listedViolations);
    expect(listed[0]?.field).toBe('ids[0]');
    expect(decoded.errorInfo?.metadata).toMatchObject({
      violations: '10000',
      violations_listed: String(listed.length),
    });
    const huge = asClientError(
      new ServerError(status.NOT_FOUND, 'x'.repeat(1_000_000), {
        reason: 'NOT_FOUND',
        resource: { type: 'shop.user.v1.User', name: 'y'.repeat(1_000_000) },
        metadata: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, 'v'])),
      }),
    );
    expect(huge.message.length).toBeLessThanOrEqual(errorLimits.messageChars);
    expect(huge.resourceInfo?.resourceName.length).toBeLessThanOrEqual(errorLimits.textChars);
    expect(Object.keys(huge.errorInfo?.metadata ?? {}).length).toBe(errorLimits.metadataEntries);
  });

  it('treats thrown non-errors as INTERNAL too', () => {
    expect(asClientError('a string').code).toBe(status.INTERNAL);
    expect(asClientError(undefined).code).toBe(status.INTERNAL);
  });
});
