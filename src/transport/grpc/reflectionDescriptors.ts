// The file descriptors server reflection hands out, as protoc would write them.
//
// @grpc/reflection serves the descriptors proto-loader builds, and those break strict
// clients such as grpcurl (grpc/grpc-node#2958, #3018): type names are relative (so
// `google.protobuf.Timestamp` "cannot resolve"), files list no dependencies, and map entry
// types lack their `Entry` suffix ("invalid map" in grpc.health.v1). This rewrites them:
// every type name fully qualified, every file's dependencies listed, map entries named
// `<Field>Entry`, reserved field ranges ending where descriptor.proto says (protobufjs writes
// `reserved 6;` as 6 to 6, the last number kept; a descriptor's `end` is one past it, and
// grpcurl refuses "invalid range: 6 to 5"). Field names are kept as written (snake_case).
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS } from './protos.ts';

/**
 * The parts of google.protobuf.FileDescriptorProto this rewrite reads or changes (field
 * names as protobufjs's bundled descriptor.proto spells them).
 */
interface FieldDescriptor { name: string; typeName?: string }
interface MessageDescriptor {
  name: string;
  field?: FieldDescriptor[];
  nestedType?: MessageDescriptor[];
  enumType?: { name: string }[];
  options?: { mapEntry?: boolean };
  /** `end` exclusive in a descriptor; protobufjs writes it inclusive. */
  reservedRange?: { start: number; end: number }[];
}
interface ServiceDescriptor { name: string; method?: { inputType: string; outputType: string }[] }
interface FileDescriptor {
  name: string;
  package?: string;
  dependency?: string[];
  messageType?: MessageDescriptor[];
  enumType?: { name: string }[];
  service?: ServiceDescriptor[];
}

type Codec = protoLoader.MessageTypeDefinition<FileDescriptor, FileDescriptor>;

const DESCRIPTOR_CODEC_OPTIONS: protoLoader.Options = { longs: Number, enums: String, defaults: false };

function descriptorCodec(): Codec {
  const def = protoLoader.loadSync('google/protobuf/descriptor.proto', DESCRIPTOR_CODEC_OPTIONS)['google.protobuf.FileDescriptorProto'];
  if (!def || def.format !== 'Protocol Buffer 3 DescriptorProto') throw new Error('no google.protobuf.FileDescriptorProto');
  return def as Codec;
}

/**
 * `files` (relative to the loader's include dirs) loaded for reflection, in the shape
 * ReflectionService reads: a package definition whose entries carry `fileDescriptorProtos`.
 */
export function reflectionContract(files: readonly string[]): protoLoader.PackageDefinition {
  const codec = descriptorCodec();
  const loaded = protoLoader.loadSync([...files], { ...LOADER_OPTIONS, keepCase: true });
  const byName = new Map<string, FileDescriptor>();
  for (const def of Object.values(loaded)) {
    // Messages and enums carry their files' descriptors; services do not.
    for (const bin of (def as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos ?? []) {
      const file = codec.deserialize(bin);
      if (!byName.has(file.name)) byName.set(file.name, file);
    }
  }
  const fixed = qualify([...byName.values()]);
  // ReflectionService reads nothing else of a package definition.
  return { files: { fileDescriptorProtos: fixed.map((f) => codec.serialize(f)) } } as unknown as protoLoader.PackageDefinition;
}

/** Rewrites the files in place (see the head of this file) and returns them. */
function qualify(files: FileDescriptor[]): FileDescriptor[] {
  const home = new Map<string, FileDescriptor>();
  const index = (scope: string, m: MessageDescriptor, file: FileDescriptor): void => {
    const name = `${scope}.${m.name}`;
    home.set(name, file);
    for (const e of m.enumType ?? []) home.set(`${name}.${e.name}`, file);
    for (const n of m.nestedType ?? []) index(name, n, file);
  };
  for (const f of files) {
    const pkg = f.package ? `.${f.package}` : '';
    for (const m of f.messageType ?? []) index(pkg, m, f);
    for (const e of f.enumType ?? []) home.set(`${pkg}.${e.name}`, f);
  }

  /** Protobuf scoping: look the name up from the innermost scope outwards. */
  const resolve = (scope: string, ref: string, file: FileDescriptor): string => {
    if (ref.startsWith('.')) return ref;
    for (let s = scope; ; s = s.slice(0, Math.max(0, s.lastIndexOf('.')))) {
      const candidate = `${s}.${ref}`;
      const owner = home.get(candidate);
      if (owner) {
        if (owner !== file && !file.dependency!.includes(owner.name)) file.dependency!.push(owner.name);
        return candidate;
      }
      if (s === '') throw new Error(`reflection: cannot resolve ${ref} from ${scope} in ${file.name}`);
    }
  };

  const visit = (scope: string, m: MessageDescriptor, file: FileDescriptor): void => {
    const name = `${scope}.${m.name}`;
    for (const f of m.field ?? []) if (f.typeName) f.typeName = resolve(name, f.typeName, file);
    for (const r of m.reservedRange ?? []) r.end += 1;
    for (const entry of (m.nestedType ?? []).filter((n) => n.options?.mapEntry)) {
      const field = (m.field ?? []).find((f) => f.typeName === `${name}.${entry.name}`);
      if (!field) continue;
      entry.name = `${pascal(field.name)}Entry`;
      field.typeName = `${name}.${entry.name}`;
    }
    for (const n of m.nestedType ?? []) visit(name, n, file);
  };

  for (const f of files) {
    f.dependency = [];
    const pkg = f.package ? `.${f.package}` : '';
    for (const m of f.messageType ?? []) visit(pkg, m, f);
    for (const s of f.service ?? []) {
      for (const m of s.method ?? []) {
        m.inputType = resolve(pkg, m.inputType, f);
        m.outputType = resolve(pkg, m.outputType, f);
      }
    }
  }
  return files;
}

/** `statuses` -> `Statuses`, `foo_bar` -> `FooBar` (protoc's map entry naming). */
function pascal(field: string): string {
  return field.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}
