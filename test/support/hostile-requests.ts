// Hostile gRPC requests at the byte level, for the raw HTTP/2 suite
// (test/e2e/hostile-http2.test.ts): what a broken or malicious peer sends and
// a generated client never would. Every request is built from the method's
// input descriptor (services/gen/descriptor_set.pb.ts), so a field added to a
// proto is fuzzed without touching this file, and from a seeded generator, so
// a failure reproduces from the seed.
import { gzipSync } from 'node:zlib';
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { grpcFrame, type RawHeaders } from './raw-grpc.js';
import type { SeededRandom } from './seeded-random.js';

export const categories = [
  'random-body',
  'truncated',
  'wrong-wire-type',
  'oversized-repeated',
  'bad-grpc-timeout',
  'bad-compression',
  'huge-metadata',
  'bad-content-type-path-method',
] as const;
export type Category = (typeof categories)[number];

/** One RPC under test: its HTTP/2 path and its request message's descriptor. */
export interface HostileMethod {
  path: string;
  input: DescMessage;
}

export interface HostileRequest {
  category: Category;
  /** Which kind of request within the category, for the failure message. */
  variant: string;
  path: string;
  headers: RawHeaders;
  body: Buffer;
  /**
   * Send on a connection of its own: the server may answer this one by
   * closing the connection (a header block over its limits), which would
   * fail the other calls sharing it.
   */
  ownSession: boolean;
}

export interface HostileContext {
  rng: SeededRandom;
  /** Every method of the service under test. */
  methods: readonly HostileMethod[];
  /** Paths of a service the server does not host. */
  foreignPaths: readonly string[];
  /** Values that pass validation (ids of real users, say), so some requests reach deep. */
  knownStrings: readonly string[];
  /** The server's receive limit (GRPC_MAX_RECEIVE_MESSAGE_SIZE). */
  maxReceiveMessageBytes: number;
}

/** One request of `category` to `method`. */
export function hostileRequest(
  category: Category,
  method: HostileMethod,
  ctx: HostileContext,
): HostileRequest {
  const [variant, body, headers = {}, path = method.path] = builders[category](method, ctx);
  return {
    category,
    variant,
    path,
    headers,
    body,
    ownSession: category === 'huge-metadata',
  };
}

type Built = [variant: string, body: Buffer, headers?: RawHeaders, path?: string];
type Builder = (method: HostileMethod, ctx: HostileContext) => Built;

const builders: Record<Category, Builder> = {
  'random-body'({ input }, ctx) {
    const { rng } = ctx;
    switch (rng.int(0, 2)) {
      case 0:
        return ['random bytes in a frame', grpcFrame(rng.bytes(rng.int(0, 2048)))];
      case 1:
        return ['random bytes, no framing', rng.bytes(rng.int(1, 2048))];
      default: {
        // A plausible request with some of its bytes overwritten.
        const message = Buffer.from(plausibleMessage(input, ctx));
        for (let n = rng.int(1, 4); n > 0 && message.length > 0; n--) {
          message[rng.int(0, message.length - 1)] = rng.int(0, 255);
        }
        return ['plausible request, bytes flipped', grpcFrame(message)];
      }
    }
  },

  truncated({ input }, ctx) {
    const { rng } = ctx;
    const message = plausibleMessage(input, ctx);
    const frame = grpcFrame(message);
    switch (rng.int(0, 5)) {
      case 0:
        return ['empty body', Buffer.alloc(0)];
      case 1:
        return ['part of a length prefix', frame.subarray(0, rng.int(1, 4))];
      case 2: {
        // The prefix announces the whole message; the stream ends before all of it came.
        const cut = Buffer.from(frame.subarray(0, 5 + rng.int(0, Math.max(0, message.length - 1))));
        cut.writeUInt32BE(Math.max(1, message.length), 1);
        return ['frame cut short', cut];
      }
      case 3:
        // The prefix agrees with the bytes, but the message stops mid-field.
        return [
          'message cut mid-field',
          grpcFrame(message.subarray(0, rng.int(0, Math.max(0, message.length - 1)))),
        ];
      case 4:
        return [
          'whole frame, then part of a second',
          Buffer.concat([frame, frame.subarray(0, rng.int(1, frame.length - 1))]),
        ];
      default:
        return ['empty message', grpcFrame(new Uint8Array(0))];
    }
  },

  'wrong-wire-type'({ input }, ctx) {
    const { rng } = ctx;
    const field = input.fields.length > 0 ? rng.pick(input.fields) : undefined;
    const parts: Uint8Array[] = [plausibleMessage(input, ctx)];
    let variant: string;
    switch (field ? rng.int(0, 7) : rng.int(3, 7)) {
      case 0:
      case 1:
      case 2: {
        const right = wireTypeOf(field as DescField);
        const wrong = rng.pick(
          [WireType.Varint, WireType.Bit64, WireType.LengthDelimited, WireType.Bit32].filter(
            (t) => t !== right,
          ),
        );
        variant = `${(field as DescField).name} as wire type ${WireType[wrong]}`;
        parts.push(valueOfWireType((field as DescField).number, wrong, rng));
        break;
      }
      case 3: {
        const type = rng.pick([6, 7]);
        variant = `wire type ${type} (none such)`;
        parts.push(
          varint(BigInt(field?.number ?? 1) * 8n + BigInt(type)),
          rng.bytes(rng.int(0, 8)),
        );
        break;
      }
      case 4:
        variant = rng.pick(['field number 0', 'field number 2^29', 'tag over 32 bits']);
        parts.push(
          variant === 'field number 0'
            ? varint(BigInt(rng.int(0, 5)))
            : variant === 'field number 2^29'
              ? varint(2n ** 29n * 8n + 2n)
              : Buffer.alloc(rng.int(6, 11), 0xff),
          Buffer.from([1, 0x41]),
        );
        break;
      case 5:
        variant = rng.pick(['lone end group', 'group never ended', 'group ended by another field']);
        parts.push(
          variant === 'lone end group'
            ? varint(BigInt(rng.int(1, 20)) * 8n + 4n)
            : variant === 'group never ended'
              ? Buffer.concat([varint(99n * 8n + 3n), Buffer.from([8, 1])])
              : Buffer.concat([varint(99n * 8n + 3n), varint(98n * 8n + 4n)]),
        );
        break;
      case 6:
        variant = 'length past the end';
        parts.push(
          varint(BigInt(field?.number ?? 1) * 8n + 2n),
          varint(BigInt(rng.int(100, 2 ** 31))),
        );
        break;
      default: {
        // Unknown fields of every valid wire type: a parser must skip them.
        variant = 'unknown fields';
        for (let n = rng.int(1, 10); n > 0; n--) {
          parts.push(valueOfWireType(rng.int(100, 2 ** 29 - 1), rng.pick(validWireTypes), rng));
        }
      }
    }
    if (rng.chance(0.5)) parts.reverse();
    return [variant, grpcFrame(Buffer.concat(parts))];
  },

  'oversized-repeated'({ input }, ctx) {
    const { rng, maxReceiveMessageBytes: max } = ctx;
    const strings = input.fields.filter(isStringField);
    const field = strings.length > 0 ? rng.pick(strings) : undefined;
    const fieldNo = field?.number ?? 1;
    switch (rng.int(0, 9)) {
      case 0: {
        const size = rng.int(1024, max - 64);
        return [
          'one string field under the receive limit',
          grpcFrame(lengthDelimited(fieldNo, Buffer.alloc(size, rng.pick(['a', '0', '\u00e9'])))),
        ];
      }
      case 1:
        return [
          'message over the receive limit',
          grpcFrame(lengthDelimited(fieldNo, Buffer.alloc(max + rng.int(1, 4096), 0x61))),
        ];
      case 2: {
        // Only the prefix and a little: the server must refuse it without buffering 4 GB.
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(rng.pick([max + 1, 2 ** 31, 2 ** 32 - 1]), 1);
        return [
          'length prefix over the limit',
          Buffer.concat([prefix, rng.bytes(rng.int(0, 1024))]),
        ];
      }
      case 3: {
        const one = Buffer.from(singleValue(field, ctx));
        const times = Math.min(
          rng.int(100, 5000),
          Math.floor((max - 64) / Math.max(1, one.length)),
        );
        return [
          `a singular field ${times} times`,
          grpcFrame(Buffer.concat(Array(times).fill(one))),
        ];
      }
      case 4: {
        const list = input.fields.find((f) => f.fieldKind === 'list') ?? field;
        const count = rng.pick([101, 1000, rng.int(1, 1500)]);
        const items = Array.from({ length: count }, () =>
          lengthDelimited(list?.number ?? 1, Buffer.from(plausibleString(ctx).slice(0, 40))),
        );
        return [`a list of ${count} items`, grpcFrame(Buffer.concat(items).subarray(0, max - 16))];
      }
      case 5: {
        const nested = input.fields.find((f) => f.fieldKind === 'message');
        const one = nested
          ? lengthDelimited(nested.number, plausibleMessage(nested.message, ctx))
          : lengthDelimited(fieldNo, Buffer.alloc(8));
        const times = Math.floor((max - 64) / one.length);
        return [
          `a message field ${times} times`,
          grpcFrame(Buffer.concat(Array(rng.int(1, times)).fill(one))),
        ];
      }
      case 6: {
        const parts: Buffer[] = [];
        let size = 0;
        const target = rng.int(1024, max - 64);
        while (size < target) {
          const part = valueOfWireType(rng.int(100, 2 ** 29 - 1), rng.pick(validWireTypes), rng);
          parts.push(part);
          size += part.length;
        }
        return [
          'unknown fields up to the limit',
          grpcFrame(Buffer.concat(parts).subarray(0, target)),
        ];
      }
      case 7: {
        // Nested unknown groups, deeper than a parser should recurse.
        const depth = rng.int(50, 20_000);
        const open = varint(99n * 8n + 3n);
        const close = varint(99n * 8n + 4n);
        const ends = rng.chance(0.5) ? Array(depth).fill(close) : [];
        return [
          `groups nested ${depth} deep`,
          grpcFrame(Buffer.concat([...Array(depth).fill(open), ...ends]).subarray(0, max - 16)),
        ];
      }
      case 8: {
        const message = plausibleMessage(input, ctx);
        return ['two request messages', Buffer.concat([grpcFrame(message), grpcFrame(message)])];
      }
      default: {
        // Few: grpc-js decodes every message of a DATA frame before the unary
        // handler refuses the second, so thousands cost the server megabytes
        // a call (docs/hardening.md, "Hostile input over raw HTTP/2").
        const count = rng.int(2, 200);
        return [
          `${count} empty messages`,
          Buffer.concat(Array(count).fill(grpcFrame(new Uint8Array(0)))),
        ];
      }
    }
  },

  'bad-grpc-timeout'({ input }, ctx) {
    const { rng } = ctx;
    const value = rng.chance(0.8) ? rng.pick(badTimeouts) : printable(rng, rng.int(0, 12));
    return [
      `grpc-timeout ${JSON.stringify(value)}`,
      grpcFrame(plausibleMessage(input, ctx)),
      {
        'grpc-timeout': value,
      },
    ];
  },

  'bad-compression'({ input }, ctx) {
    const { rng } = ctx;
    const message = plausibleMessage(input, ctx);
    switch (rng.int(0, 7)) {
      case 0:
        return [
          'gzip flag, undecodable bytes',
          grpcFrame(rng.bytes(rng.int(0, 512)), { compressed: true }),
          { 'grpc-encoding': 'gzip' },
        ];
      case 1:
        return [
          'deflate flag, undecodable bytes',
          grpcFrame(rng.bytes(rng.int(1, 512)), { compressed: true }),
          { 'grpc-encoding': 'deflate' },
        ];
      case 2: {
        const gzipped = gzipSync(message);
        return [
          'gzip cut short',
          grpcFrame(gzipped.subarray(0, rng.int(1, gzipped.length - 1)), { compressed: true }),
          { 'grpc-encoding': 'gzip' },
        ];
      }
      case 3:
        return [
          'unknown grpc-encoding',
          grpcFrame(message, { compressed: true }),
          { 'grpc-encoding': rng.pick(['snappy', 'br', 'zstd', 'x-custom', printable(rng, 8)]) },
        ];
      case 4:
        return ['compressed flag, no grpc-encoding', grpcFrame(message, { compressed: true })];
      case 5: {
        const frame = grpcFrame(message);
        frame[0] = rng.int(2, 255);
        return [
          'flag byte neither 0 nor 1',
          frame,
          rng.chance(0.5) ? { 'grpc-encoding': 'gzip' } : {},
        ];
      }
      case 6: {
        // Small on the wire, far over the receive limit once inflated.
        const mb = rng.pick([1, 16, 60]);
        return [
          `gzip bomb (${mb} MiB)`,
          grpcFrame(gzipBomb(mb), { compressed: true }),
          { 'grpc-encoding': 'gzip' },
        ];
      }
      default:
        return [
          'valid gzip',
          grpcFrame(gzipSync(message), { compressed: true }),
          { 'grpc-encoding': 'gzip' },
        ];
    }
  },

  'huge-metadata'({ input }, ctx) {
    const { rng } = ctx;
    const body = grpcFrame(plausibleMessage(input, ctx));
    switch (rng.int(0, 5)) {
      case 0: {
        const size = rng.pick([1024, 8 * 1024, 16 * 1024, 64 * 1024, rng.int(1, 256 * 1024)]);
        return [`one ${size}-byte header`, body, { 'x-hostile': printable(rng, size) }];
      }
      case 1: {
        const count = rng.pick([100, 129, 1000, rng.int(1, 3000)]);
        const headers: RawHeaders = {};
        for (let i = 0; i < count; i++) headers[`x-h-${i}`] = printable(rng, rng.int(1, 100));
        return [`${count} headers`, body, headers];
      }
      case 2: {
        const count = rng.int(2, 2000);
        return [
          `one header ${count} times`,
          body,
          { 'x-repeated': Array.from({ length: count }, () => printable(rng, 16)) },
        ];
      }
      case 3:
        return [
          'binary header, not base64',
          body,
          { 'x-hostile-bin': printable(rng, rng.int(1, 32 * 1024)) },
        ];
      case 4: {
        // Headers the telemetry preload and grpc-js parse themselves.
        const name = rng.pick([
          'traceparent',
          'tracestate',
          'baggage',
          'b3',
          'x-b3-traceid',
          'x-b3-spanid',
          'x-b3-sampled',
          'grpc-trace-bin',
          'grpc-tags-bin',
          'grpc-accept-encoding',
          'user-agent',
        ]);
        const value = rng.chance(0.5)
          ? printable(rng, rng.int(1, 64))
          : printable(rng, rng.int(1024, 32 * 1024));
        return [`${name} of garbage`, body, { [name]: value }];
      }
      default: {
        // Response-only headers, sent in a request.
        const name = rng.pick(['grpc-status', 'grpc-message', 'grpc-status-details-bin']);
        return [`${name} in a request`, body, { [name]: printable(rng, rng.int(1, 8 * 1024)) }];
      }
    }
  },

  'bad-content-type-path-method'(method, ctx) {
    const { rng } = ctx;
    const body = grpcFrame(plausibleMessage(method.input, ctx));
    switch (rng.int(0, 2)) {
      case 0: {
        const type = rng.pick([
          undefined,
          '',
          'text/plain',
          'application/json',
          'application/grpc+json',
          'application/grpc-web',
          'application/grpc-web-text',
          'application/grpcx',
          'application/grpc; charset=utf-8',
          'APPLICATION/GRPC',
        ]);
        return [`content-type ${JSON.stringify(type)}`, body, { 'content-type': type }];
      }
      case 1: {
        const [service = '', name = ''] = method.path.slice(1).split('/');
        const path = rng.pick([
          `/${service}/NoSuchMethod`,
          `/no.such.v1.Service/${name}`,
          rng.pick(ctx.foreignPaths),
          method.path.toLowerCase(),
          `${method.path}/`,
          `${method.path}?x=1`,
          `/${service}//${name}`,
          `/${service}`,
          '/',
          '*',
          `/${encodeURIComponent(`${service}/${name}`)}`,
          `/${'a'.repeat(rng.int(1000, 16_000))}`,
        ]);
        return [`path ${JSON.stringify(path.slice(0, 60))}`, body, {}, path];
      }
      default: {
        const verb = rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'BREW']);
        return [
          `:method ${verb}`,
          body,
          { ':method': verb, te: rng.pick([undefined, 'trailers']) },
        ];
      }
    }
  },
};

const bombs = new Map<number, Buffer>();
/** `mb` MiB of zeros, gzipped (about 1 KB per MiB), made once. */
function gzipBomb(mb: number): Buffer {
  let bomb = bombs.get(mb);
  if (!bomb) {
    bomb = gzipSync(Buffer.alloc(mb * 1024 * 1024), { level: 9 });
    bombs.set(mb, bomb);
  }
  return bomb;
}

const badTimeouts = [
  'abc',
  '',
  '-1S',
  '1',
  'S',
  '1x',
  '1.5S',
  '1s',
  ' 1S',
  '123456789S',
  '0n',
  '1n',
  '00000000H',
  '99999999H',
  '99999999M',
  '2147484S',
  '1S1S',
  'Infinity',
  'NaNS',
  '0x10S',
];

const validWireTypes = [
  WireType.Varint,
  WireType.Bit64,
  WireType.LengthDelimited,
  WireType.Bit32,
] as const;

/** A request that looks right: the descriptor's fields with plausible values, some left out. */
export function plausibleMessage(desc: DescMessage, ctx: HostileContext, depth = 0): Uint8Array {
  const writer = new BinaryWriter();
  for (const field of desc.fields) {
    if (ctx.rng.chance(0.2)) continue;
    writeField(writer, field, ctx, depth);
  }
  return writer.finish();
}

/** One occurrence of `field` (or of string field 1 when there is none), encoded with its tag. */
function singleValue(field: DescField | undefined, ctx: HostileContext): Uint8Array {
  const writer = new BinaryWriter();
  if (field) writeField(writer, field, ctx, 0, 1);
  else writer.tag(1, WireType.LengthDelimited).string(plausibleString(ctx));
  return writer.finish();
}

function writeField(
  writer: BinaryWriter,
  field: DescField,
  ctx: HostileContext,
  depth: number,
  count = ctx.rng.int(0, 4),
): void {
  switch (field.fieldKind) {
    case 'scalar':
      writeScalar(writer, field.number, field.scalar, ctx);
      break;
    case 'enum':
      writer.tag(field.number, WireType.Varint).int32(plausibleInt(ctx));
      break;
    case 'message':
      if (depth < 3) {
        writer
          .tag(field.number, WireType.LengthDelimited)
          .bytes(plausibleMessage(field.message, ctx, depth + 1));
      }
      break;
    case 'list':
      for (let i = 0; i < count; i++) {
        if (field.listKind === 'scalar') writeScalar(writer, field.number, field.scalar, ctx);
        else if (field.listKind === 'enum')
          writer.tag(field.number, WireType.Varint).int32(plausibleInt(ctx));
        else if (depth < 3) {
          writer
            .tag(field.number, WireType.LengthDelimited)
            .bytes(plausibleMessage(field.message, ctx, depth + 1));
        }
      }
      break;
    case 'map':
      // None in our protos; a map entry is a message of key 1 and value 2.
      writer.tag(field.number, WireType.LengthDelimited).bytes(new Uint8Array(0));
      break;
  }
}

function writeScalar(
  writer: BinaryWriter,
  no: number,
  type: ScalarType,
  ctx: HostileContext,
): void {
  const { rng } = ctx;
  switch (type) {
    case ScalarType.STRING:
      writer.tag(no, WireType.LengthDelimited).string(plausibleString(ctx));
      break;
    case ScalarType.BYTES:
      writer.tag(no, WireType.LengthDelimited).bytes(rng.bytes(rng.int(0, 64)));
      break;
    case ScalarType.BOOL:
      writer.tag(no, WireType.Varint).bool(rng.chance(0.5));
      break;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      writer.tag(no, WireType.Bit64).raw(rng.bytes(8));
      break;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      writer.tag(no, WireType.Bit32).raw(rng.bytes(4));
      break;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
      writer.tag(no, WireType.Varint).raw(varint(plausibleBigInt(ctx)));
      break;
    default:
      writer.tag(no, WireType.Varint).int32(plausibleInt(ctx));
  }
}

/** Strings that pass validation, strings a fuzzer alone rarely finds, and noise. */
function plausibleString(ctx: HostileContext): string {
  const { rng } = ctx;
  switch (rng.int(0, 5)) {
    case 0:
      return ctx.knownStrings.length > 0 ? rng.pick(ctx.knownStrings) : '';
    case 1:
      return uuidV7Shaped(rng);
    case 2:
      return rng.pick([
        '',
        ' ',
        'ada',
        'ada@example.com',
        'Lantern',
        'EUR',
        "'; DROP TABLE users; --",
        'a\u0000b',
        '\u202eabc',
        'x\u200b',
        '\ufeff',
        '🙂'.repeat(40),
        'e\u0301',
        '%00%ff',
        '\ud800',
        'a'.repeat(257),
      ]);
    case 3:
      return `user_${rng.int(0, 99_999)}`;
    case 4:
      return `${printable(rng, rng.int(1, 12))}@example.com`;
    default:
      return printable(rng, rng.int(0, 80));
  }
}

function plausibleInt(ctx: HostileContext): number {
  const { rng } = ctx;
  return rng.pick([
    0,
    1,
    -1,
    2,
    10,
    50,
    100,
    101,
    1000,
    2 ** 31 - 1,
    -(2 ** 31),
    rng.int(-(2 ** 31), 2 ** 31 - 1),
  ]);
}

function plausibleBigInt(ctx: HostileContext): bigint {
  const { rng } = ctx;
  return rng.pick([
    0n,
    1n,
    12n,
    999_999_999_999n,
    2n ** 63n - 1n,
    2n ** 64n - 1n,
    BigInt(rng.int(0, 2 ** 31)),
  ]);
}

function uuidV7Shaped(rng: SeededRandom): string {
  const hex = rng.bytes(16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-${'89ab'[rng.int(0, 3)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Printable ASCII (a header value Node will send), `length` characters. */
function printable(rng: SeededRandom, length: number): string {
  const bytes = rng.bytes(length);
  for (let i = 0; i < length; i++) bytes[i] = 0x21 + ((bytes[i] as number) % 94);
  return bytes.toString('latin1');
}

function isStringField(field: DescField): boolean {
  return (
    (field.fieldKind === 'scalar' || (field.fieldKind === 'list' && field.listKind === 'scalar')) &&
    field.scalar === ScalarType.STRING
  );
}

/** The wire type a field is encoded with (a packed repeated scalar aside). */
function wireTypeOf(field: DescField): WireType {
  const scalar =
    field.fieldKind === 'scalar' || (field.fieldKind === 'list' && field.listKind === 'scalar')
      ? field.scalar
      : undefined;
  switch (scalar) {
    case undefined:
      return field.fieldKind === 'enum' || (field.fieldKind === 'list' && field.listKind === 'enum')
        ? WireType.Varint
        : WireType.LengthDelimited;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    default:
      return WireType.Varint;
  }
}

/** Field `no` with a well-formed value of wire type `type`. */
function valueOfWireType(no: number, type: WireType, rng: SeededRandom): Buffer {
  const tag = varint(BigInt(no) * 8n + BigInt(type));
  switch (type) {
    case WireType.Varint:
      return Buffer.concat([
        tag,
        varint(BigInt(rng.int(0, 2 ** 31)) * BigInt(rng.int(1, 2 ** 31))),
      ]);
    case WireType.Bit64:
      return Buffer.concat([tag, rng.bytes(8)]);
    case WireType.Bit32:
      return Buffer.concat([tag, rng.bytes(4)]);
    default: {
      const value = rng.bytes(rng.int(0, 64));
      return Buffer.concat([tag, varint(BigInt(value.length)), value]);
    }
  }
}

function lengthDelimited(no: number, value: Uint8Array): Buffer {
  return Buffer.concat([varint(BigInt(no) * 8n + 2n), varint(BigInt(value.length)), value]);
}

/** Base-128 varint of any non-negative value (a tag past 32 bits included). */
export function varint(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return Buffer.from(bytes);
}
