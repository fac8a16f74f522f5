import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { writeText } from "../http-json.ts";
import type { Request, Response } from "../http-servers.ts";
import { DOCS_CONTENT_SECURITY_POLICY, docsInitScript, docsPage, SWAGGER_UI_ASSETS } from "./docs-page.ts";
import { openApiDocument } from "./openapi-document.ts";
import { loadProtoComments } from "./proto-comments.ts";

const TITLE = "Notification Service REST API";

/**
 * The OpenAPI document of the REST surface (`<base>openapi.json`) and its docs page
 * (`<base>docs`), built once from the descriptors. Returns false for other requests.
 */
export function createApiDocsEndpoints(options: { basePath: string; services: DescService[] }) {
  const root = packageRoot();
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  const document = openApiDocument(options.services, {
    title: TITLE,
    version,
    comments: loadProtoComments(join(root, "server", "openapi", "descriptors.binpb")),
  });
  const documentPath = `${options.basePath}openapi.json`;
  const docsPath = `${options.basePath}docs`;
  const assetsDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const pages = new Map<string, { type: string; text: string; headers?: Record<string, string> }>([
    [documentPath, { type: "application/json; charset=utf-8", text: JSON.stringify(document) }],
    [
      docsPath,
      {
        type: "text/html; charset=utf-8",
        text: docsPage(TITLE, docsPath),
        headers: { "content-security-policy": DOCS_CONTENT_SECURITY_POLICY },
      },
    ],
    [`${docsPath}/init.js`, { type: "text/javascript; charset=utf-8", text: docsInitScript(documentPath) }],
  ]);

  return async function serveApiDocs(request: Request, response: Response): Promise<boolean> {
    if (request.method !== "GET" && request.method !== "HEAD") return false;
    const path = (request.url ?? "/").split("?", 1)[0] ?? "";
    const page = pages.get(path);
    if (page) {
      for (const [name, value] of Object.entries(page.headers ?? {})) response.setHeader(name, value);
      writeText(response, 200, page.type, page.text);
      return true;
    }
    const asset = path.startsWith(`${docsPath}/`) ? path.slice(docsPath.length + 1) : "";
    if (!Object.hasOwn(SWAGGER_UI_ASSETS, asset)) return false;
    const type = SWAGGER_UI_ASSETS[asset as keyof typeof SWAGGER_UI_ASSETS];
    response.setHeader("cache-control", "public, max-age=86400");
    writeText(response, 200, type, await readFile(join(assetsDir, asset), "utf8"));
    return true;
  };
}

/** The folder of our package.json: gen/ sits beside it whether we run from server/ or dist/server/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}
