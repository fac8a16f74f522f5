import { describe, expect, it } from "vitest";
import { machineReason } from "../../../../core/tracking/index.ts";

const SAFARI =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)";
const get = (userAgent: string) => ({ method: "GET", userAgent });

describe("machine opens and clicks", () => {
  it("take mail privacy proxies' opens for a machine's", () => {
    expect(machineReason("open", get("Mozilla/5.0"), 60_000)).toBe("apple_privacy_proxy");
    expect(
      machineReason(
        "open",
        get("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"),
        60_000,
      ),
    ).toBe("google_image_proxy");
    expect(
      machineReason(
        "open",
        get("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"),
        1,
      ),
    ).toBe("yahoo_mail_proxy");
  });

  it("take link scanners, crawlers, libraries, HEAD requests and no user agent for machines", () => {
    expect(machineReason("click", get("Barracuda Sentinel (EE)"), 60_000)).toBe("link_scanner");
    expect(machineReason("click", get("Mozilla/5.0 (compatible; Mimecast URL Protect)"), 60_000)).toBe(
      "link_scanner",
    );
    expect(machineReason("click", get("Microsoft Office Existence Discovery"), 60_000)).toBe("link_scanner");
    expect(
      machineReason(
        "click",
        get("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
        60_000,
      ),
    ).toBe("automated_client");
    expect(machineReason("click", get("python-requests/2.31.0"), 60_000)).toBe("automated_client");
    expect(machineReason("click", { method: "HEAD", userAgent: SAFARI }, 60_000)).toBe("head_request");
    expect(machineReason("open", get(""), 60_000)).toBe("no_user_agent");
  });

  it("take a click within two seconds of the send, or before it was recorded, for a scanner's", () => {
    expect(machineReason("click", get(SAFARI), 1_500)).toBe("too_soon");
    expect(machineReason("click", get(SAFARI), 0)).toBe("too_soon");
    expect(machineReason("click", get(SAFARI), 2_000)).toBeUndefined();
    expect(machineReason("click", get(SAFARI), undefined)).toBeUndefined();
    // An open that soon is a reader's: the pixel loads as the message is shown.
    expect(machineReason("open", get(SAFARI), 500)).toBeUndefined();
  });

  it("take readers' mail clients and browsers for readers", () => {
    for (const agent of [SAFARI, OUTLOOK, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Thunderbird/115.0"]) {
      expect(machineReason("open", get(agent), 60_000)).toBeUndefined();
      expect(machineReason("click", get(agent), 60_000)).toBeUndefined();
    }
  });
});
