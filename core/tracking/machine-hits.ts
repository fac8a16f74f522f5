import type { TrackingKind } from "./tracking-links.ts";

/** Why a hit is taken for a machine's rather than the reader's. */
export type MachineReason =
  | "head_request"
  | "no_user_agent"
  | "apple_privacy_proxy"
  | "google_image_proxy"
  | "yahoo_mail_proxy"
  | "link_scanner"
  | "automated_client"
  | "too_soon";

/** What a tracking request says of who made it. */
export interface TrackingClient {
  method: string;
  /** Empty when the request had none. */
  userAgent: string;
}

/**
 * A click this soon after the message was sent is a scanner's: security gateways follow
 * every link as the message arrives, and no reader opens and clicks within two seconds.
 */
export const CLICK_MIN_AFTER_SEND_MS = 2_000;

// Mail privacy proxies: they fetch every image of a message, the pixel included, on their own.
// - Apple Mail Privacy Protection (iOS 15, macOS 12 on) loads the remote content of each
//   message as it arrives, whether or not it is ever read, through Apple's proxies (the
//   iCloud Private Relay network), which send "Mozilla/5.0" and nothing more as the user
//   agent, a string no browser or mail client sends alone (SocketLabs, "Identifying Apple
//   MPP opens"; Word to the Wise, "Apple MPP reporting and geolocation", 2021). Their
//   addresses are Apple's published egress ranges; the api role sees a balancer's address
//   as often as the client's, so the address is not used.
// - Gmail loads images through its proxy ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko
//   Firefox/11.0 (via ggpht.com GoogleImageProxy)") when a message is shown, caches them,
//   and fetches again on schedules of its own: neither whether nor how often a person read it
//   can be told from its hits (Word to the Wise, "Gmail deploys image proxy servers", 2013;
//   ScientiaMobile, "What is Google Image Proxy?").
// - Yahoo Mail's proxy says "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html".
const PRIVACY_PROXIES: [RegExp, MachineReason][] = [
  [/^Mozilla\/5\.0$/, "apple_privacy_proxy"],
  [/GoogleImageProxy/i, "google_image_proxy"],
  [/YahooMailProxy/i, "yahoo_mail_proxy"],
];
// Link scanners that name themselves: Barracuda's intent analysis and Sentinel, Mimecast's
// and Proofpoint's URL defenses, Bing's previews in Outlook.com, Office's discovery
// requests before it opens a link, Microsoft Defender's Safe Links. Most scanners send a
// browser's user agent instead (Barracuda's guide "Unwanted link clicks"; Word to the Wise,
// "Barracuda filters clicking all links", 2013): they are told by HEAD requests and by
// clicking as the message arrives (CLICK_MIN_AFTER_SEND_MS).
const LINK_SCANNERS =
  /Barracuda|Mimecast|Proofpoint|BingPreview|Microsoft Office (?:Existence|Protocol) Discovery|Safe ?Links/i;
// Crawlers, previewers and HTTP libraries: a crawler gives its "+http…" page, a library
// its own name; no reader's mail client or browser sends either.
const AUTOMATED_CLIENTS =
  /\+https?:\/\/|crawler|spider|headless|phantomjs|python-requests|python-urllib|aiohttp|curl\/|wget\/|go-http-client|java\/|okhttp|libwww-perl|apache-httpclient|axios\/|node-fetch|undici|googlebot|bingbot|applebot|yandexbot|slackbot|twitterbot|facebookexternalhit|discordbot|telegrambot|linkedinbot|whatsapp|skypeuripreview/i;

/**
 * Why an open or a click is a machine's, or undefined when it is taken for the reader's.
 * `sinceSentMs` is how long after the message was sent the hit came (0 when it was not
 * recorded sent yet), undefined when that is not known. These are heuristics: a scanner
 * that acts as a browser long after delivery counts as a reader, and a reader whose client
 * is behind a privacy proxy does not.
 */
export function machineReason(
  kind: TrackingKind,
  client: TrackingClient,
  sinceSentMs: number | undefined,
): MachineReason | undefined {
  // Browsers follow a link with GET; a HEAD asks only whether the address answers.
  if (client.method === "HEAD") return "head_request";
  const agent = client.userAgent.trim();
  if (agent === "") return "no_user_agent";
  for (const [pattern, reason] of PRIVACY_PROXIES) if (pattern.test(agent)) return reason;
  if (LINK_SCANNERS.test(agent)) return "link_scanner";
  if (AUTOMATED_CLIENTS.test(agent)) return "automated_client";
  if (kind === "click" && sinceSentMs !== undefined && sinceSentMs < CLICK_MIN_AFTER_SEND_MS) {
    return "too_soon";
  }
  return undefined;
}
