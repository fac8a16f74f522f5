import { machineCaller } from "../../core/caller.ts";
import type { CampaignUnsubscribes } from "../../core/campaign-report/index.ts";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { PreferenceManager, UnsubscribeLinks } from "../../core/preferences/index.ts";
import { writeRestError } from "../api/error-mapping.ts";
import { writeText } from "../http-json.ts";
import type { Request, Response } from "../http-servers.ts";

export const UNSUBSCRIBE_PATH = "/api/v1/notifications/unsubscribe/";
// RFC 8058's body is the 26 bytes of "List-Unsubscribe=One-Click"; a form's is not much more.
const MAX_BODY_BYTES = 1024;
const UNSUBSCRIBED_BY = machineCaller("one-click-unsubscribe");

export interface UnsubscribeMetrics {
  unsubscribed(): void;
  refused(reason: "invalid_link" | "method" | "too_large"): void;
}

/**
 * The address behind every email's `List-Unsubscribe`. A POST unsubscribes at once, as RFC
 * 8058's one click does from the mail client, with no cookie or login; a GET only shows a
 * page with the button, because link scanners and prefetchers follow every link in a
 * message and must not unsubscribe anyone. Unsubscribing twice changes nothing the second
 * time, so a replayed request is harmless.
 */
export function createUnsubscribeEndpoint(deps: {
  links: UnsubscribeLinks;
  preferences: PreferenceManager;
  /** Counts an unsubscribe through a campaign message's link for the campaign's report. */
  campaigns: Pick<CampaignUnsubscribes, "unsubscribed">;
  metrics: UnsubscribeMetrics;
  logger: Logger;
}) {
  return async function serveUnsubscribe(request: Request, response: Response): Promise<boolean> {
    const path = request.url?.split("?", 1)[0] ?? "";
    if (!path.startsWith(UNSUBSCRIBE_PATH)) return false;
    const scope = deps.links.open(decodeURIComponent(path.slice(UNSUBSCRIBE_PATH.length)));
    if (!scope) {
      deps.metrics.refused("invalid_link");
      if (request.method === "GET") {
        writeText(
          response,
          404,
          HTML,
          page("Ссылка недействительна", "<p>Эта ссылка отписки повреждена или не наша.</p>"),
        );
      } else {
        writeRestError(
          response,
          new DomainError(
            ErrorCatalog.notFound,
            "this unsubscribe link was not made by this service, or was changed",
          ),
        );
      }
      return true;
    }
    if (request.method === "GET") {
      writeText(
        response,
        200,
        HTML,
        page(
          "Отписка",
          `<p>Больше не получать письма «${escapeHtml(scope.type)}»?</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Отписаться</button></form>`,
        ),
      );
      return true;
    }
    if (request.method !== "POST") {
      deps.metrics.refused("method");
      response.setHeader("allow", "GET, POST");
      writeRestError(
        response,
        new DomainError(ErrorCatalog.methodNotAllowed, `${request.method} is not served here`),
      );
      return true;
    }
    if (!(await bodyWithin(request, MAX_BODY_BYTES))) {
      deps.metrics.refused("too_large");
      writeRestError(
        response,
        new DomainError(ErrorCatalog.payloadTooLarge, `the body is over ${MAX_BODY_BYTES} bytes`),
      );
      return true;
    }
    try {
      await deps.preferences.unsubscribe(scope, UNSUBSCRIBED_BY);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      writeRestError(response, error);
      return true;
    }
    deps.metrics.unsubscribed();
    // Counted after it took effect, and not undone when the count fails: the user asked to go.
    const campaign = await deps.campaigns.unsubscribed(scope).catch((error: unknown) => {
      deps.logger.warn(
        { err: error, messageId: scope.messageId },
        "an unsubscribe not counted for its campaign",
      );
      return false;
    });
    deps.logger.info(
      { userId: scope.userId, type: scope.type, channel: scope.channel, campaign },
      "unsubscribed by link",
    );
    writeText(
      response,
      200,
      HTML,
      page("Вы отписаны", `<p>Письма «${escapeHtml(scope.type)}» больше не придут.</p>`),
    );
    return true;
  };
}

const HTML = "text/html; charset=utf-8";

function page(title: string, body: string): string {
  return `<!doctype html><html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Reads the body away, answering whether it stayed within `limit` bytes. */
async function bodyWithin(request: Request, limit: number): Promise<boolean> {
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > limit) return false;
  }
  return true;
}
