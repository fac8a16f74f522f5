import type { DescMessage, Message } from "@bufbuild/protobuf";
import type { Path } from "@bufbuild/protobuf/reflect";
import { createValidator, type Violation } from "@bufbuild/protovalidate";
import type { Interceptor } from "@connectrpc/connect";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";

/**
 * Checks every request against the protovalidate rules written in the protos, so
 * clients in any language see the same rules the server enforces. All violations
 * are reported at once, each with a JSON pointer into the request message.
 */
export function validationInterceptor(): Interceptor {
  const validator = createValidator();
  return (next) => async (request) => {
    if (!request.stream) {
      const result = validator.validate(request.method.input as DescMessage, request.message as Message);
      if (result.kind === "invalid") throw validationError(result.violations);
      if (result.kind === "error") throw result.error;
    }
    return next(request);
  };
}

function validationError(violations: Violation[]): DomainError {
  const [first, ...rest] = violations.map((violation) => ({
    detail: `${fieldName(violation.field)}: ${violation.message}`,
    source: { pointer: pointerOf(violation.field) },
  }));
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
          return `/${String(element.key).replaceAll("~", "~0").replaceAll("/", "~1")}`;
        default:
          return `/${element.name}`;
      }
    })
    .join("");
}

function fieldName(path: Path): string {
  return pointerOf(path).slice(1).replaceAll("/", ".") || "request";
}
