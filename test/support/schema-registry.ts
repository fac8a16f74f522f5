// Calls of the local schema registry's Confluent API, as its clients make them.
import { localServices } from "./services.ts";

export const registryUrl = localServices().schemaRegistryUrl;

/** The status and the JSON body (undefined when empty) of one call. */
export async function registryCall<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${registryUrl}${path}`, {
    method,
    headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export const subjectPath = (subject: string): string => `/subjects/${encodeURIComponent(subject)}`;
