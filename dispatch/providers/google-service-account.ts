import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import { type Agent, request } from "node:https";
import type { Credential, GoogleOAuthAccessToken } from "firebase-admin/app";

// Google's token endpoint, which is also the audience its assertions must name.
const TOKEN_URL = "https://oauth2.googleapis.com/token";
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
// Google takes an assertion valid for at most an hour.
const ASSERTION_SECONDS = 3600;
// An answer of the token endpoint is a few hundred bytes.
const MAX_ANSWER_BYTES = 64 * 1024;

export interface ServiceAccount {
  clientEmail: string;
  /** PEM, RSA: Google signs service account assertions with RS256 only. */
  privateKey: string;
  /** What the access token may do, and nothing more. */
  scopes: readonly string[];
}

/**
 * A service account's access tokens as firebase-admin's `cert()` gets them (RFC 7523: a JWT
 * signed with the account's key, exchanged at Google's token endpoint), through `agent`.
 * `cert()` takes an agent too, but with the account given as an object rather than a file it
 * never uses it for the exchange (firebase-admin-node#2960: it builds its JWT client without
 * the agent), so behind a proxy, or routed to a local peer, the token would be asked of Google
 * directly. firebase-admin caches what this gives and asks again before it expires.
 */
export class ServiceAccountCredential implements Credential {
  private readonly account: ServiceAccount;
  private readonly key: KeyObject;
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(account: ServiceAccount, agent: Agent, timeoutMs: number) {
    this.account = account;
    this.key = createPrivateKey(account.privateKey);
    this.agent = agent;
    this.timeoutMs = timeoutMs;
  }

  async getAccessToken(): Promise<GoogleOAuthAccessToken> {
    const form = new URLSearchParams({ grant_type: JWT_BEARER, assertion: this.assertion() });
    const { status, body } = await this.post(form.toString());
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(body) as Record<string, unknown>;
    } catch {
      throw new Error(`the token endpoint answered ${status} with something other than JSON`);
    }
    if (status !== 200) {
      // OAuth's error and its description (RFC 6749 §5.2): never the assertion or a token.
      throw new Error(
        `the token endpoint answered ${status}: ${String(answer.error)}: ${String(answer.error_description)}`,
      );
    }
    const { access_token: accessToken, expires_in: expiresIn } = answer;
    if (typeof accessToken !== "string" || typeof expiresIn !== "number") {
      throw new Error("the token endpoint's answer holds no access_token and expires_in");
    }
    return { access_token: accessToken, expires_in: expiresIn };
  }

  private assertion(): string {
    const now = Math.floor(Date.now() / 1000);
    const header = base64url({ alg: "RS256", typ: "JWT" });
    const claims = base64url({
      iss: this.account.clientEmail,
      scope: this.account.scopes.join(" "),
      aud: TOKEN_URL,
      iat: now,
      exp: now + ASSERTION_SECONDS,
    });
    const signature = sign("sha256", Buffer.from(`${header}.${claims}`), this.key).toString("base64url");
    return `${header}.${claims}.${signature}`;
  }

  private post(form: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        TOKEN_URL,
        {
          method: "POST",
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "content-length": Buffer.byteLength(form),
          },
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          let size = 0;
          incoming.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES)
              incoming.destroy(new Error("the token endpoint's answer is too long"));
            else chunks.push(chunk);
          });
          incoming.once("error", reject);
          incoming.once("end", () =>
            resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
          );
        },
      );
      outgoing.once("timeout", () =>
        outgoing.destroy(new Error(`the token endpoint gave no answer within ${this.timeoutMs} ms`)),
      );
      outgoing.once("error", reject);
      outgoing.end(form);
    });
  }
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}
