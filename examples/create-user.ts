// Creates one user through the generated, typed UserService client and prints
// the outcome, whatever it is: the new user's id, or the gRPC code, message and
// rich error details (google.rpc.Status from the `grpc-status-details-bin`
// trailer, decoded with the generated google/rpc types).
//
//   npm run example                                  a fresh user, ada-<random>
//   npm run example -- --username alan               alan, alan@example.com
//   npm run example -- --username alan --email nope  INVALID_ARGUMENT
//
// UserService is at $USER_SERVICE_ADDRESS (default localhost:50051, where
// `npm start` runs it). Exit code: 0 created, 1 the call failed, 2 bad usage.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import type { Any } from '../services/gen/google/protobuf/any.pb.js';
import {
  BadRequest,
  ErrorInfo,
  PreconditionFailure,
  ResourceInfo,
  RetryInfo,
} from '../services/gen/google/rpc/error_details.pb.js';
import { Status } from '../services/gen/google/rpc/status.pb.js';
import {
  type CreateUserRequest,
  type CreateUserResponse,
  UserServiceClient,
} from '../services/gen/shop/user/v1/user_service.pb.js';

const usage = 'usage: npm run example -- [--username NAME] [--email ADDRESS]';

let args: { username?: string; email?: string; help?: boolean };
try {
  args = parseArgs({
    options: {
      username: { type: 'string' },
      email: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}

// A fresh name by default, so the example never collides with the README's
// grpcurl recipes (which create `ada`) or with an earlier run of itself.
const username = args.username ?? `ada-${randomUUID().slice(0, 8)}`;
const email = args.email ?? `${username}@example.com`;
const address = process.env.USER_SERVICE_ADDRESS || 'localhost:50051';

const users = new UserServiceClient(address, credentials.createInsecure());
const request: CreateUserRequest = {
  username,
  email,
  // Makes a retry of this very request safe: it returns the same user.
  requestId: randomUUID(),
};

const outcome = await new Promise<CreateUserResponse | ServiceError>((resolve) =>
  users.createUser(
    request,
    new Metadata(),
    { deadline: Date.now() + 5000 }, // always set a deadline
    (error, response) => resolve(error ?? response),
  ),
);
users.close();

if (!(outcome instanceof Error)) {
  const user = outcome.user;
  console.log(`created user ${user?.id} (username ${user?.username}, email ${user?.email})`);
  process.exit(0);
}

console.log(`CreateUser failed: ${status[outcome.code] ?? outcome.code} (${outcome.code})`);
console.log(`  message: ${outcome.details}`);
for (const line of describeDetails(outcome)) console.log(`  ${line}`);
process.exit(1);

/** One line per detail of the rich error model, or a line saying there is none. */
function describeDetails(error: ServiceError): string[] {
  const [raw] = error.metadata?.get('grpc-status-details-bin') ?? [];
  if (!(raw instanceof Buffer)) {
    return ['details: none (the server sent no google.rpc.Status; grpc-js made this error)'];
  }
  const lines: string[] = [];
  for (const any of Status.decode(raw).details) lines.push(...describeAny(any));
  return lines.length > 0 ? lines : ['details: none'];
}

function describeAny({ typeUrl, value }: Any): string[] {
  switch (typeUrl.slice(typeUrl.lastIndexOf('/') + 1)) {
    case 'google.rpc.ErrorInfo': {
      const info = ErrorInfo.decode(value);
      const metadata = Object.entries(info.metadata).map(([k, v]) => `, ${k}=${v}`);
      return [`reason: ${info.reason} (domain ${info.domain}${metadata.join('')})`];
    }
    case 'google.rpc.BadRequest':
      return BadRequest.decode(value).fieldViolations.map(
        (v) => `field violation: ${v.field}: ${v.description}`,
      );
    case 'google.rpc.PreconditionFailure':
      return PreconditionFailure.decode(value).violations.map(
        (v) => `precondition failure: ${v.type} ${v.subject}: ${v.description}`,
      );
    case 'google.rpc.ResourceInfo': {
      const info = ResourceInfo.decode(value);
      return [`resource: ${info.resourceType} ${info.resourceName}`];
    }
    case 'google.rpc.RetryInfo': {
      const delay = RetryInfo.decode(value).retryDelay;
      const ms = Number(delay?.seconds ?? 0n) * 1000 + (delay?.nanos ?? 0) / 1e6;
      return [`retry after: ${ms} ms`];
    }
    default:
      return [`detail: ${typeUrl} (${value.length} bytes)`];
  }
}
