// The one catalog of errors. The domain throws DomainError with an entry from here;
// only the API edge turns it into a Connect error or the REST error body.

export type ErrorKind =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "conflict"
  | "precondition_failed"
  | "unauthenticated"
  | "permission_denied"
  | "too_large"
  | "rate_limited"
  | "unavailable"
  | "unimplemented"
  | "internal";

export interface ErrorEntry {
  /** Stable UPPER_SNAKE code that clients may branch on. */
  code: string;
  kind: ErrorKind;
  /** Short Russian title, as the platform's API standard asks. */
  title: string;
}

function entry(code: string, kind: ErrorKind, title: string): ErrorEntry {
  return { code, kind, title };
}

export const ErrorCatalog = {
  validation: entry("VALIDATION_ERROR", "invalid_argument", "Ошибка валидации запроса"),
  malformedBody: entry("MALFORMED_REQUEST_BODY", "invalid_argument", "Тело запроса не разобрано"),
  notFound: entry("NOT_FOUND", "not_found", "Ресурс не найден"),
  routeNotFound: entry("ROUTE_NOT_FOUND", "not_found", "Маршрут не найден"),
  methodNotAllowed: entry("METHOD_NOT_ALLOWED", "unimplemented", "Метод не поддерживается"),
  unsupportedMediaType: entry(
    "UNSUPPORTED_MEDIA_TYPE",
    "invalid_argument",
    "Неподдерживаемый тип содержимого",
  ),
  payloadTooLarge: entry("PAYLOAD_TOO_LARGE", "too_large", "Слишком большой запрос"),
  alreadyExists: entry("ALREADY_EXISTS", "already_exists", "Ресурс уже существует"),
  conflict: entry("CONFLICT", "conflict", "Конфликт версий ресурса"),
  // The caller's expected revision (or If-Match) is not the current one.
  staleRevision: entry("STALE_REVISION", "conflict", "Ресурс изменён другим запросом"),
  // The operation does not fit the resource's state (an active version is immutable, say).
  failedPrecondition: entry(
    "FAILED_PRECONDITION",
    "precondition_failed",
    "Операция невозможна в текущем состоянии",
  ),
  // A render stopped by its budget (section depth, output size, work). invalid_argument, not
  // failed-precondition or resource-exhausted: the same template and variables fail the same way
  // every time, so retrying cannot help; the caller acts by sending fewer or smaller variables or
  // by simplifying the template, and the detail names the limit and its value.
  templateRenderLimit: entry("TEMPLATE_RENDER_LIMIT", "invalid_argument", "Превышен лимит отрисовки шаблона"),
  unauthenticated: entry("UNAUTHENTICATED", "unauthenticated", "Требуется аутентификация"),
  permissionDenied: entry("PERMISSION_DENIED", "permission_denied", "Недостаточно прав"),
  rateLimited: entry("RATE_LIMITED", "rate_limited", "Слишком много запросов"),
  unavailable: entry("SERVICE_UNAVAILABLE", "unavailable", "Сервис временно недоступен"),
  internal: entry("INTERNAL_ERROR", "internal", "Внутренняя ошибка сервиса"),
} as const satisfies Record<string, ErrorEntry>;

/** Where in the request the problem is: a JSON pointer into the body, or a parameter name. */
export interface ErrorSource {
  pointer?: string;
  parameter?: string;
}

/** One more problem of the same request, reported beside the first (validation finds several at once). */
export interface ErrorProblem {
  detail: string;
  source: ErrorSource;
}

export class DomainError extends Error {
  constructor(
    readonly entry: ErrorEntry,
    readonly detail: string,
    readonly source: ErrorSource = {},
    readonly more: ErrorProblem[] = [],
  ) {
    super(detail);
    this.name = "DomainError";
  }

  /** Every problem, the first one included. */
  get problems(): ErrorProblem[] {
    return [{ detail: this.detail, source: this.source }, ...this.more];
  }
}
