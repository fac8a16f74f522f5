import type { DescEnum, DescExtension, DescFile, DescMessage, DescService } from "@bufbuild/protobuf";

/**
 * What server reflection looks up, built from the served services' descriptors in gen/:
 * their files and every file those import, transitively (well-known types, buf.validate,
 * our options), so a client can resolve every type and custom option it meets.
 */
export interface DescriptorIndex {
  /** Full names of the served services, in the order they were given. */
  readonly serviceNames: readonly string[];
  fileByName(name: string): DescFile | undefined;
  /** Any fully-qualified element: message, enum, enum value, field, oneof, extension, service, method. */
  fileContainingSymbol(name: string): DescFile | undefined;
  fileContainingExtension(extendee: string, number: number): DescFile | undefined;
  /** Numbers of the known extensions of a message, ascending; undefined when the message is unknown. */
  extensionNumbersOf(extendee: string): number[] | undefined;
}

export function createDescriptorIndex(services: Iterable<DescService>): DescriptorIndex {
  const serviceNames: string[] = [];
  const files = new Map<string, DescFile>();
  for (const service of services) {
    if (serviceNames.includes(service.typeName)) continue;
    serviceNames.push(service.typeName);
    addWithImports(service.file, files);
  }

  const symbols = new Map<string, DescFile>();
  const messages = new Set<string>();
  const extensions = new Map<string, Map<number, DescFile>>();
  for (const file of files.values()) {
    for (const [name, kind] of elementsOf(file)) {
      symbols.set(name, file);
      if (kind === "message") messages.add(name);
    }
    for (const extension of extensionsOf(file)) {
      const byNumber = extensions.get(extension.extendee.typeName) ?? new Map<number, DescFile>();
      byNumber.set(extension.number, file);
      extensions.set(extension.extendee.typeName, byNumber);
    }
  }

  return {
    serviceNames,
    fileByName: (name) => files.get(name),
    fileContainingSymbol: (name) => symbols.get(name),
    fileContainingExtension: (extendee, number) => extensions.get(extendee)?.get(number),
    extensionNumbersOf(extendee) {
      if (!messages.has(extendee)) return undefined;
      return [...(extensions.get(extendee)?.keys() ?? [])].sort((a, b) => a - b);
    },
  };
}

/** Keyed by the file's path as imports spell it (`file.proto.name`; `file.name` drops ".proto"). */
function addWithImports(file: DescFile, files: Map<string, DescFile>): void {
  if (files.has(file.proto.name)) return;
  files.set(file.proto.name, file);
  for (const imported of file.dependencies) addWithImports(imported, files);
}

type ElementKind = "message" | "other";

function* elementsOf(file: DescFile): Generator<[string, ElementKind]> {
  for (const message of file.messages) yield* messageElements(message);
  for (const descEnum of file.enums) yield* enumElements(descEnum);
  for (const extension of file.extensions) yield [extension.typeName, "other"];
  for (const service of file.services) {
    yield [service.typeName, "other"];
    for (const method of service.methods) yield [`${service.typeName}.${method.name}`, "other"];
  }
}

function* messageElements(message: DescMessage): Generator<[string, ElementKind]> {
  yield [message.typeName, "message"];
  for (const field of message.fields) yield [`${message.typeName}.${field.name}`, "other"];
  for (const oneof of message.oneofs) yield [`${message.typeName}.${oneof.name}`, "other"];
  for (const nested of message.nestedMessages) yield* messageElements(nested);
  for (const nested of message.nestedEnums) yield* enumElements(nested);
  for (const extension of message.nestedExtensions) yield [extension.typeName, "other"];
}

/** Enum values live in the scope that holds the enum (C++ scoping), not inside the enum. */
function* enumElements(descEnum: DescEnum): Generator<[string, ElementKind]> {
  yield [descEnum.typeName, "other"];
  const scope = descEnum.typeName.slice(0, descEnum.typeName.length - descEnum.name.length);
  for (const value of descEnum.values) yield [`${scope}${value.name}`, "other"];
}

function* extensionsOf(file: DescFile): Generator<DescExtension> {
  yield* file.extensions;
  const pending = [...file.messages];
  for (let message = pending.pop(); message; message = pending.pop()) {
    yield* message.nestedExtensions;
    pending.push(...message.nestedMessages);
  }
}
