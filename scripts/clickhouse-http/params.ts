// Query parameters ({name:Type} placeholders), as the HTTP interface carries them:
// `param_<name>` URL entries or, for multipart/form-data requests, form fields.
// Their values are ClickHouse's escaped text form (what @clickhouse/client's
// formatQueryParams produces: \t \n \\ \' escapes, \N for NULL, ['a','b'] for
// arrays, Unix seconds for dates). They go to chdb's server-side binder byte for
// byte, which parses them by the placeholder's type exactly as the server does,
// so a value is never spliced into SQL text and nothing here unescapes it.

const prefix = "param_";

export type QueryParameters = Record<string, string>;

// The first value of a name wins, URL before form fields, as in ClickHouse's
// HTTPHandler. A null prototype keeps names like `__proto__` plain keys.
export function collectQueryParameters(
  url: URLSearchParams,
  formFields: Iterable<readonly [string, string]> = [],
): QueryParameters {
  const parameters: QueryParameters = Object.create(null);
  const add = (key: string, value: string): void => {
    if (!key.startsWith(prefix)) return;
    const name = key.slice(prefix.length);
    if (name !== "" && !Object.hasOwn(parameters, name)) parameters[name] = value;
  };
  for (const [key, value] of url) add(key, value);
  for (const [key, value] of formFields) add(key, value);
  return parameters;
}

export function isQueryParameter(key: string): boolean {
  return key.startsWith(prefix);
}
