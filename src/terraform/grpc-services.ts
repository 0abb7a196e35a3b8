/**
 * gRPC service definitions for the protocol subset, built straight from the
 * pre-generated protobufjs JSON descriptor (proto/descriptor.generated.ts)
 * with `protobufjs/light` (no .proto parser).
 *
 * This is what `@grpc/proto-loader`'s `fromJSON` produces, minus the
 * per-message FileDescriptorProto it also builds for reflection, which we
 * never use and which cost about 25–50 ms of every provider start (plus
 * ~17 ms to load proto-loader). Messages are converted with the options
 * proto-loader users know: field names as in the .proto, int64 as JS
 * number, enums as their names, defaults filled in, oneof names set, bytes
 * as Buffer.
 */
import type { ServiceDefinition, MethodDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import { descriptor } from './proto/descriptor.generated.js';

/** protobufjs conversion options applied to every decoded message. */
export const CONVERSION_OPTIONS = { longs: Number, enums: String, bytes: Buffer, defaults: true, oneofs: true } as const;

type Msg = Record<string, unknown>;

function serializer(type: protobuf.Type): (value: Msg) => Buffer {
  return (value) => {
    const bytes = type.encode(type.fromObject(value)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => Msg {
  return (bytes) => type.toObject(type.decode(bytes), CONVERSION_OPTIONS) as Msg;
}

/** Builds the grpc-js definition of one service, e.g. `tfplugin6.Provider`. Throws if the name is not in the descriptor. */
export function buildServiceDefinition(root: protobuf.Root, fullName: string): ServiceDefinition {
  const service = root.lookupService(fullName);
  const def: Record<string, MethodDefinition<Msg, Msg>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType as protobuf.Type;
    const res = method.resolvedResponseType as protobuf.Type;
    def[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: !!method.requestStream,
      responseStream: !!method.responseStream,
      requestSerialize: serializer(req),
      requestDeserialize: deserializer(req),
      responseSerialize: serializer(res),
      responseDeserialize: deserializer(res),
      originalName: method.name,
    };
  }
  return def as ServiceDefinition;
}

/** The four services a provider process serves. */
export interface PluginServices {
  provider: ServiceDefinition;
  controller: ServiceDefinition;
  stdio: ServiceDefinition;
  health: ServiceDefinition;
}

let cached: PluginServices | undefined;

/** Loads the descriptor once and returns the service definitions. */
export function pluginServices(): PluginServices {
  if (!cached) {
    const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
    cached = {
      provider: buildServiceDefinition(root, 'tfplugin6.Provider'),
      controller: buildServiceDefinition(root, 'plugin.GRPCController'),
      stdio: buildServiceDefinition(root, 'plugin.GRPCStdio'),
      health: buildServiceDefinition(root, 'grpc.health.v1.Health'),
    };
  }
  return cached;
}
