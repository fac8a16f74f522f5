import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { FeedbackOutcome, ProviderReport } from "../../core/sending/index.ts";
import { writeRestError } from "../api/error-mapping.ts";
import { writeJson, writeText } from "../http-json.ts";
import type { Request, Response } from "../http-servers.ts";

export const WEBHOOKS_PATH = "/api/v1/notifications/webhooks/";
// Providers post status batches; a megabyte holds thousands of events.
const MAX_BODY_BYTES = 1024 * 1024;

/** A webhook call as its reader sees it. */
export interface WebhookCall {
  body: Buffer;
  contentType: string;
  query: URLSearchParams;
}

/** What a provider's webhook reader made of a call. */
export type WebhookReading =
  | {
      reports: ProviderReport[];
      /** What the provider wants back to count the call as taken (SMS.ru wants the body "100"). */
      answer?: { status: number; contentType: string; body: string };
    }
  | { refused: "bad_signature" | "malformed"; detail: string };

/** Reads one configured provider's webhook calls, checking its signature with that provider's secret. */
export type WebhookReader = (call: WebhookCall) => WebhookReading;

export interface WebhookMetrics {
  accepted(provider: string, reports: number): void;
  refused(reason: "unknown_provider" | "bad_signature" | "malformed" | "method" | "too_large"): void;
}

/**
 * `POST /api/v1/notifications/webhooks/{provider}`, {provider} a configured provider's name:
 * the reports in the call become status changes, suppressions and unsubscribes
 * (ProviderFeedback; a report that comes before its send is recorded is applied again shortly,
 * EarlyReports). An unknown provider, an unsigned or forged call and a malformed body
 * are refused, counted and logged without their content. Providers send a call again until
 * it is answered 2xx, and applying a report twice changes nothing: replays are harmless.
 */
export function createWebhookEndpoint(deps: {
  readers: ReadonlyMap<string, WebhookReader>;
  feedback: { apply(reports: ProviderReport[]): Promise<FeedbackOutcome> };
  metrics: WebhookMetrics;
  logger: Logger;
}) {
  return async function serveWebhook(request: Request, response: Response): Promise<boolean> {
    // Every API request passes here first: a string test, not a URL parse, for the others.
    if (!request.url?.startsWith(WEBHOOKS_PATH)) return false;
    const url = new URL(request.url, "http://webhook");
    const provider = decodeURIComponent(url.pathname.slice(WEBHOOKS_PATH.length));
    const reader = deps.readers.get(provider);
    if (!reader) {
      deps.metrics.refused("unknown_provider");
      writeRestError(
        response,
        new DomainError(ErrorCatalog.notFound, "no provider of that name takes webhooks"),
      );
      return true;
    }
    // Providers check the address with a GET when a webhook is set up (Unisender Go does).
    if (request.method === "GET") {
      writeJson(response, 200, { provider });
      return true;
    }
    if (request.method !== "POST") {
      deps.metrics.refused("method");
      response.setHeader("allow", "GET, POST");
      writeRestError(response, new DomainError(ErrorCatalog.methodNotAllowed, "webhooks are POSTed"));
      return true;
    }
    const body = await bodyOf(request, MAX_BODY_BYTES);
    if (!body) {
      deps.metrics.refused("too_large");
      writeRestError(
        response,
        new DomainError(ErrorCatalog.payloadTooLarge, `the body is over ${MAX_BODY_BYTES} bytes`),
      );
      return true;
    }
    const reading = reader({
      body,
      contentType: String(request.headers["content-type"] ?? ""),
      query: url.searchParams,
    });
    if ("refused" in reading) {
      deps.metrics.refused(reading.refused);
      deps.logger.warn({ provider, reason: reading.refused }, "webhook call refused");
      const entry =
        reading.refused === "bad_signature" ? ErrorCatalog.unauthenticated : ErrorCatalog.malformedBody;
      writeRestError(response, new DomainError(entry, reading.detail));
      return true;
    }
    const outcome = await deps.feedback.apply(reading.reports);
    deps.metrics.accepted(provider, reading.reports.length);
    deps.logger.info({ provider, ...outcome }, "webhook call applied");
    if (reading.answer)
      writeText(response, reading.answer.status, reading.answer.contentType, reading.answer.body);
    else writeJson(response, 200, { reports: reading.reports.length, matched: outcome.matched });
    return true;
  };
}

/** The body, or undefined once it passes `limit` bytes. */
async function bodyOf(request: Request, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
