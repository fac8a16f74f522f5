import type { DescMessage, Message } from "@bufbuild/protobuf";
import type { Path } from "@bufbuild/protobuf/reflect";
import type { Violation } from "@bufbuild/protovalidate";
import type { Interceptor } from "@connectrpc/connect";
import { DomainError, ErrorCatalog, type ErrorProblem } from "../../core/errors.ts";
import { contractValidator, pointerSegment, unstorableTextProblems } from "../../mappers/index.ts";
import { malformedProtobufKey } from "./malformed-protobuf.ts";

/**
 * Checks every request against the protovalidate rules written in the protos, so
 * clients in any language see the same rules the server enforces, and for text that
 * PostgreSQL could not store. All violations are reported at once, each with a JSON
 * pointer into the request message.
 */
export function validationInterceptor(): Interceptor {
  const validator = contractValidator();
  return (next) => async (request) => {
    const malformed = request.contextValues.get(malformedProtobufKey);
    if (malformed) {
      throw new DomainError(ErrorCatalog.malformedBody, `the request is not valid Protobuf: ${malformed}`);
    }
    if (!request.stream) {
      const schema = request.method.input as DescMessage;
      const result = validator.validate(schema, request.message as Message);
      if (result.kind === "error") throw result.error;
      const problems = [
        ...unstorableTextProblems(schema, request.message),
        ...(result.kind === "invalid" ? result.violations.map(problemOf) : []),
      ];
      if (problems.length > 0) throw validationError(problems);
    }
    return next(request);
  };
}

function problemOf(violation: Violation): ErrorProblem {
  return {
    detail: `${fieldName(violation.field)}: ${violation.message}`,
    source: { pointer: pointerOf(violation.field) },
  };
}

function validationError([first, ...rest]: ErrorProblem[]): DomainError {
  if (!first) return new DomainError(ErrorCatalog.validation, "the request is invalid");
  return new DomainError(ErrorCatalog.validation, first.detail, first.source, rest);
}

/** "/template/locales/0/body": proto field names, list indexes and map keys. */
export function pointerOf(path: Path): string {
  return path
    .map((element) => {
      switch (element.kind) {
        case "list_sub":
          return `/${element.index}`;
        case "map_sub":
          return `/${pointerSegment(String(element.key))}`;
        default:
          return `/${element.name}`;
      }
    })
    .join("");
}

function fieldName(path: Path): string {
  return pointerOf(path).slice(1).replaceAll("/", ".") || "request";
}
