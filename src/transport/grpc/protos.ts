// The gRPC contract as loaded at run time: our proto files (proto/switchboard/v1) and the
// standard health service's, read once with one set of loader options. The server, the
// reflection service and the tests all load the same files this way.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

export const PROTO_ROOT = fileURLToPath(new URL('../../../proto', import.meta.url));
export const PROTO_PACKAGE = 'switchboard.v1';

/** Our contract, relative to PROTO_ROOT. */
export const PROTO_FILES = [
  'switchboard/v1/auth_service.proto',
  'switchboard/v1/messaging_service.proto',
  'switchboard/v1/file_service.proto',
  'switchboard/v1/room_service.proto',
] as const;

/** grpc.health.v1, as grpc-health-check ships it (path relative to its proto folder). */
const HEALTH_PROTO_ROOT = join(dirname(healthProtoPath), '..', '..');
const HEALTH_PROTO_FILE = 'health/v1/health.proto';

/** Every file the server knows: ours and the health service's. */
export const CONTRACT_FILES = [...PROTO_FILES, HEALTH_PROTO_FILE] as const;

/**
 * JS shapes of proto messages: lowerCamelCase fields (as proto3 JSON names them, so an
 * error naming a field names what a JSON client sends), int64 as number (every seq and
 * size fits in 2^53), enums as their names, defaults filled in, and the name of the set
 * member of each oneof.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT, HEALTH_PROTO_ROOT],
};

export const SERVICE = {
  auth: `${PROTO_PACKAGE}.AuthService`,
  messaging: `${PROTO_PACKAGE}.MessagingService`,
  files: `${PROTO_PACKAGE}.FileService`,
  rooms: `${PROTO_PACKAGE}.RoomService`,
  health: 'grpc.health.v1.Health',
} as const;

export type ServiceName = (typeof SERVICE)[keyof typeof SERVICE];

/** Our files and the health service's, in one package definition. */
export function loadContract(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([...CONTRACT_FILES], LOADER_OPTIONS);
}

/** One service's definition, for Server.addService or a client constructor. */
export function serviceDefinition(contract: protoLoader.PackageDefinition, name: ServiceName): grpc.ServiceDefinition {
  const def = contract[name];
  if (!def || !isService(def)) throw new Error(`no service ${name} in the proto files`);
  return def as grpc.ServiceDefinition;
}

function isService(def: protoLoader.AnyDefinition): def is protoLoader.ServiceDefinition {
  return !('format' in def);
}
