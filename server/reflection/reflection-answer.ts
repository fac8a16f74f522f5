import { type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { DescriptorIndex } from "./descriptor-index.ts";

/**
 * The `message_request` oneof of a ServerReflectionRequest. v1 and v1alpha declare the same
 * fields, so one answer serves both versions.
 */
export type ReflectionQuery =
  | { case: "fileByFilename"; value: string }
  | { case: "fileContainingSymbol"; value: string }
  | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
  | { case: "allExtensionNumbersOfType"; value: string }
  | { case: "listServices"; value: string }
  | { case: undefined; value?: undefined };

/** The `message_response` oneof of a ServerReflectionResponse, in either version. */
export type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * Answers one request of a reflection stream. `sentFiles` holds the names of the files
 * already sent on this stream: the protocol lets us skip them as dependencies, and this
 * function adds what it sends. The requested file itself is always sent, as grpc-go does,
 * because clients match the answer by its first file.
 */
export function answerReflectionQuery(
  index: DescriptorIndex,
  query: ReflectionQuery,
  sentFiles: Set<string>,
): ReflectionAnswer {
  switch (query.case) {
    case "listServices":
      return {
        case: "listServicesResponse",
        value: { service: index.serviceNames.map((name) => ({ name })) },
      };
    case "fileByFilename":
      return filesOr(index.fileByName(query.value), sentFiles, `file "${query.value}" not found`);
    case "fileContainingSymbol":
      return filesOr(index.fileContainingSymbol(query.value), sentFiles, `symbol "${query.value}" not found`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = query.value;
      return filesOr(
        index.fileContainingExtension(containingType, extensionNumber),
        sentFiles,
        `extension ${extensionNumber} of "${containingType}" not found`,
      );
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbersOf(query.value);
      if (!numbers) return notFound(`type "${query.value}" not found`);
      return {
        case: "allExtensionNumbersResponse",
        value: { baseTypeName: query.value, extensionNumber: numbers },
      };
    }
    case undefined:
      return {
        case: "errorResponse",
        value: { errorCode: Code.InvalidArgument, errorMessage: "the request sets no message_request" },
      };
  }
}

function filesOr(file: DescFile | undefined, sentFiles: Set<string>, missing: string): ReflectionAnswer {
  if (!file) return notFound(missing);
  return {
    case: "fileDescriptorResponse",
    value: { fileDescriptorProto: withUnsentImports(file, sentFiles).map(serialize) },
  };
}

function notFound(message: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: message } };
}

/** The file, then its transitive imports breadth-first, leaving out those sent before. */
function withUnsentImports(file: DescFile, sentFiles: Set<string>): DescFile[] {
  const answer = [file];
  sentFiles.add(file.proto.name);
  for (let i = 0; i < answer.length; i++) {
    for (const imported of answer[i]?.dependencies ?? []) {
      if (sentFiles.has(imported.proto.name)) continue;
      sentFiles.add(imported.proto.name);
      answer.push(imported);
    }
  }
  return answer;
}

function serialize(file: DescFile): Uint8Array {
  return toBinary(FileDescriptorProtoSchema, file.proto);
}
