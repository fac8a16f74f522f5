import type { InboxManager, LiveInboxFeed } from "../core/inbox/index.ts";
import type { Logger } from "../core/logger.ts";
import { storableUserId } from "../core/uuids.ts";
import { InboxGateway, type TokenAuthenticator } from "../gateway-ws/index.ts";
import { createJwtVerifier, KeySourceError } from "./auth/jwt-verifier.ts";
import type { Config } from "./config.ts";
import type { Metrics } from "./metrics.ts";

// A resume reads the store in pages of this many messages.
const RESUME_PAGE_SIZE = 200;

/** The gateway role's part: the WebSocket gateway over the inbox, its tokens checked as the API's are. */
export function createInboxGateway(
  config: Config,
  inbox: InboxManager,
  feed: LiveInboxFeed,
  metrics: Metrics,
  logger: Logger,
): InboxGateway {
  const gateway = new InboxGateway({
    inbox,
    feed,
    authenticate: userTokens(config.auth.jwt),
    settings: { ...config.gateway, resumePageSize: RESUME_PAGE_SIZE },
    counters: {
      refused: (reason) => metrics.gateway.refused.inc({ reason }),
      closed: (code) => metrics.gateway.closed.inc({ code: String(code) }),
      delivered: (count) => metrics.gateway.delivered.inc(count),
    },
    logger: logger.child({ component: "gateway" }),
  });
  metrics.gateway.observeConnections(() => gateway.connectionCount);
  return gateway;
}

/** Checks a connection's JWT: a socket is for the token's subject, which must be a user id. */
function userTokens(jwt: Config["auth"]["jwt"]): TokenAuthenticator {
  const verify = createJwtVerifier(jwt);
  return async (token) => {
    if (!verify) return { ok: false, reason: "this service is configured to accept no JWTs" };
    try {
      const check = await verify(token);
      if (!check.ok) return check;
      if (!storableUserId(check.caller.subject))
        return { ok: false, reason: 'the token\'s "sub" is not a user id' };
      return {
        ok: true,
        userId: check.caller.subject,
        roles: check.caller.roles,
        expiresAt: check.expiresAt,
      };
    } catch (error) {
      if (error instanceof KeySourceError) {
        return { ok: false, reason: "the token cannot be checked right now", unavailable: true };
      }
      throw error;
    }
  };
}
