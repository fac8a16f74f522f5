import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  DescriptorProtoSchema,
  type EnumDescriptorProto,
  EnumDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  type FileDescriptorSet,
  FileDescriptorSetSchema,
  ServiceDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";

/**
 * The comments written in the .proto files, by full name: "pkg.Message", "pkg.Message.field",
 * "pkg.Message.oneof", "pkg.Enum", "pkg.Enum.VALUE", "pkg.Service", "pkg.Service.Method".
 */
export type ProtoComments = ReadonlyMap<string, string>;

// Source locations address a declaration by the field numbers leading to it in the descriptor.
const FILE = FileDescriptorProtoSchema.field;
const MESSAGE = DescriptorProtoSchema.field;
const ENUM_VALUE = EnumDescriptorProtoSchema.field.value.number;
const METHOD = ServiceDescriptorProtoSchema.field.method.number;

/**
 * The descriptors protoc-gen-es embeds in gen/ carry no comments, so `npm run gen` also
 * writes a descriptor set with source info (server/openapi/descriptors.binpb, next to its only reader; gen/ is buf generate's alone) for the documentation.
 */
export function loadProtoComments(descriptorSetFile: string): ProtoComments {
  return protoComments(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetFile)));
}

export function protoComments(set: FileDescriptorSet): ProtoComments {
  const comments = new Map<string, string>();
  for (const file of set.file) {
    const names = new Map<string, string>();
    const scope = file.package ? `${file.package}.` : "";
    file.messageType.forEach((message, i) => {
      nameMessage(names, [FILE.messageType.number, i], `${scope}${message.name}`, message);
    });
    file.enumType.forEach((enumType, i) => {
      nameEnum(names, [FILE.enumType.number, i], `${scope}${enumType.name}`, enumType);
    });
    file.service.forEach((service, i) => {
      const path = [FILE.service.number, i];
      const name = `${scope}${service.name}`;
      names.set(path.join(), name);
      service.method.forEach((method, j) => {
        names.set([...path, METHOD, j].join(), `${name}.${method.name}`);
      });
    });
    for (const location of file.sourceCodeInfo?.location ?? []) {
      const name = names.get(location.path.join());
      const text = cleaned(location.leadingComments || location.trailingComments || "");
      if (name && text) comments.set(name, text);
    }
  }
  return comments;
}

function nameMessage(names: Map<string, string>, path: number[], name: string, message: DescriptorProto) {
  names.set(path.join(), name);
  message.field.forEach((field, i) => {
    names.set([...path, MESSAGE.field.number, i].join(), `${name}.${field.name}`);
  });
  message.oneofDecl.forEach((oneof, i) => {
    names.set([...path, MESSAGE.oneofDecl.number, i].join(), `${name}.${oneof.name}`);
  });
  message.nestedType.forEach((nested, i) => {
    nameMessage(names, [...path, MESSAGE.nestedType.number, i], `${name}.${nested.name}`, nested);
  });
  message.enumType.forEach((nested, i) => {
    nameEnum(names, [...path, MESSAGE.enumType.number, i], `${name}.${nested.name}`, nested);
  });
}

function nameEnum(names: Map<string, string>, path: number[], name: string, enumType: EnumDescriptorProto) {
  names.set(path.join(), name);
  enumType.value.forEach((value, i) => {
    names.set([...path, ENUM_VALUE, i].join(), `${name}.${value.name}`);
  });
}

/** "// text" comes as " text\n" per line: drop the space after the slashes and the blank ends. */
function cleaned(comment: string): string {
  return comment
    .split("\n")
    .map((line) => line.replace(/^ /, "").trimEnd())
    .join("\n")
    .trim();
}
