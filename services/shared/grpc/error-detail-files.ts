// Imports nothing, so code generation (scripts/lib/gateway-transcoder.ts) can
// read it before services/gen/ exists.

/**
 * The files whose message types appear inside status details: whoever prints
 * an error's details (grpcurl through reflection, the gateway's JSON
 * transcoder) needs them.
 */
export const errorDetailFiles = ['google/rpc/error_details.proto', 'google/rpc/status.proto'];
