import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isUuid } from "../../core/uuids.ts";
import type { Request, Response } from "../http-servers.ts";

export const REPORT_PAGE_PATH = "/campaign-report/";

/**
 * What the page may load: its own files, and calls to this origin's API. No inline script or
 * style, no form sent anywhere (the token stays out of every URL), no framing elsewhere.
 */
export const REPORT_PAGE_CSP =
  "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ASSETS: Record<string, { file: string; type: string }> = {
  "report.js": { file: "report.js", type: "text/javascript; charset=utf-8" },
  "report.css": { file: "report.css", type: "text/css; charset=utf-8" },
};
const HTML = { file: "index.html", type: "text/html; charset=utf-8" };

/**
 * The campaign report page on the api role: /campaign-report/<campaign id> is the page, its
 * script and style beside it. The page holds no figure: it reads them with the token it asks
 * for, through the report's REST route and its roles, so serving it needs no sign-in.
 */
export function createCampaignReportPage() {
  const dir = pageDir();
  const read = ({ file, type }: { file: string; type: string }) => ({
    type,
    body: readFileSync(join(dir, file)),
  });
  const page = read(HTML);
  const assets = new Map(Object.entries(ASSETS).map(([name, asset]) => [name, read(asset)]));
  return async function serveReportPage(request: Request, response: Response): Promise<boolean> {
    const path = (request.url ?? "").split("?", 1)[0] ?? "";
    if (!path.startsWith(REPORT_PAGE_PATH) || (request.method !== "GET" && request.method !== "HEAD")) {
      return false;
    }
    const rest = path.slice(REPORT_PAGE_PATH.length);
    const served = assets.get(rest) ?? (isUuid(rest) ? page : undefined);
    if (!served) return false;
    response.statusCode = 200;
    response.setHeader("content-type", served.type);
    response.setHeader("content-length", served.body.length);
    response.setHeader("content-security-policy", REPORT_PAGE_CSP);
    response.setHeader("x-content-type-options", "nosniff");
    response.setHeader("referrer-policy", "no-referrer");
    response.setHeader("cache-control", "no-cache");
    if (request.method === "HEAD") response.end();
    else response.end(served.body);
    return true;
  };
}

/** The page's folder: beside this module in the sources, and in the sources too when run from dist/. */
function pageDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, "report-page"),
    join(here, "..", "..", "..", "server", "campaigns", "report-page"),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, "index.html")));
  if (!found) throw new Error(`the campaign report page is in none of ${candidates.join(", ")}`);
  return found;
}
