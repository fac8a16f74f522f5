import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { DomainError, ErrorCatalog, type ErrorEntry, type ErrorKind } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import { type ErrorDetail, ErrorDetailSchema } from "../../gen/platform/notification/v1/errors_pb.ts";
import { writeJson } from "../http-json.ts";
import type { Response } from "../http-servers.ts";

const CODE_OF_KIND: Record<ErrorKind, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  conflict: Code.Aborted,
  precondition_failed: Code.FailedPrecondition,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  too_large: Code.ResourceExhausted,
  rate_limited: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  unimplemented: Code.Unimplemented,
  internal: Code.Internal,
};

/** The catalog entry a bare Connect code stands for, when no ErrorDetail came with it. */
const ENTRY_OF_CODE: Partial<Record<Code, ErrorEntry>> = {
  [Code.InvalidArgument]: ErrorCatalog.validation,
  [Code.NotFound]: ErrorCatalog.notFound,
  [Code.AlreadyExists]: ErrorCatalog.alreadyExists,
  [Code.Aborted]: ErrorCatalog.conflict,
  [Code.Unauthenticated]: ErrorCatalog.unauthenticated,
  [Code.PermissionDenied]: ErrorCatalog.permissionDenied,
  [Code.ResourceExhausted]: ErrorCatalog.rateLimited,
  [Code.Unavailable]: ErrorCatalog.unavailable,
};

// Errors HTTP has a more exact status for than their Connect code's: the exchange's own
// (405, 413, 415) and a failed If-Match (412).
const EXACT_HTTP_STATUS: Partial<Record<string, number>> = {
  [ErrorCatalog.methodNotAllowed.code]: 405,
  [ErrorCatalog.payloadTooLarge.code]: 413,
  [ErrorCatalog.unsupportedMediaType.code]: 415,
  [ErrorCatalog.staleRevision.code]: 412,
};

const HTTP_STATUS_OF_CODE: Record<Code, number> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 412,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

/** The Connect code a domain error is answered with. */
export function connectCodeOf(error: DomainError): Code {
  return CODE_OF_KIND[error.entry.kind];
}

function connectErrorOf(error: DomainError): ConnectError {
  const details = error.problems.map((problem) => {
    const value: Partial<ErrorDetail> = {
      code: error.entry.code,
      title: error.entry.title,
      detail: problem.detail,
      pointer: problem.source.pointer ?? "",
      parameter: problem.source.parameter ?? "",
    };
    return { desc: ErrorDetailSchema, value };
  });
  return new ConnectError(error.detail, CODE_OF_KIND[error.entry.kind], undefined, details);
}

/**
 * Turns whatever a handler threw into a Connect error carrying an ErrorDetail. An
 * unexpected error is logged in full here and leaves the process as a plain INTERNAL.
 */
function toConnectError(error: unknown, logger: Logger, procedure: string): ConnectError {
  if (error instanceof DomainError) return connectErrorOf(error);
  if (error instanceof ConnectError) return error;
  logger.error({ err: error, procedure }, "unexpected error in a handler");
  return connectErrorOf(new DomainError(ErrorCatalog.internal, "the request could not be completed"));
}

export function errorMappingInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    try {
      const response = await next(request);
      if (!response.stream) return response;
      return { ...response, message: mapStreamErrors(response.message, logger, request.url) };
    } catch (error) {
      throw toConnectError(error, logger, request.url);
    }
  };
}

async function* mapStreamErrors<T>(
  messages: AsyncIterable<T>,
  logger: Logger,
  procedure: string,
): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    throw toConnectError(error, logger, procedure);
  }
}

/** The REST error body of the platform's API standard. */
export interface RestErrorBody {
  errors: {
    code: string;
    title: string;
    detail: string;
    source?: { pointer?: string; parameter?: string };
  }[];
}

export function restErrorOf(error: ConnectError): { status: number; body: RestErrorBody } {
  const details = error.findDetails(ErrorDetailSchema);
  const fallback = ENTRY_OF_CODE[error.code] ?? ErrorCatalog.internal;
  const items =
    details.length > 0
      ? details.map((detail) => ({
          code: detail.code,
          title: detail.title,
          detail: detail.detail,
          ...sourceOf(detail.pointer, detail.parameter),
        }))
      : [{ code: fallback.code, title: fallback.title, detail: error.rawMessage }];
  const exactStatus = details[0] && EXACT_HTTP_STATUS[details[0].code];
  return { status: exactStatus ?? HTTP_STATUS_OF_CODE[error.code], body: { errors: items } };
}

export function restErrorOfDomain(error: DomainError): { status: number; body: RestErrorBody } {
  return restErrorOf(connectErrorOf(error));
}

function sourceOf(pointer: string, parameter: string): { source?: { pointer?: string; parameter?: string } } {
  if (!pointer && !parameter) return {};
  return { source: { ...(pointer ? { pointer } : {}), ...(parameter ? { parameter } : {}) } };
}

export function writeRestError(response: Response, error: DomainError): void {
  const { status, body } = restErrorOfDomain(error);
  writeJson(response, status, body);
}

export function writeRouteNotFound(response: Response, method: string | undefined, path: string): void {
  writeRestError(response, new DomainError(ErrorCatalog.routeNotFound, `no route for ${method} ${path}`));
}
