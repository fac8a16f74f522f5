import { toJson } from "@bufbuild/protobuf";
import type { Caller } from "../../core/caller.ts";
import type { SegmentManager, UploadFormat } from "../../core/campaigns/index.ts";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import { isUuid } from "../../core/uuids.ts";
import { SegmentSchema } from "../../gen/platform/notification/v1/segment_service_pb.ts";
import { segmentMessage } from "../../mappers/index.ts";
import { writeRestError } from "../api/error-mapping.ts";
import { writeJson } from "../http-json.ts";
import { headersOf, type Request, type Response } from "../http-servers.ts";

const SEGMENTS_PATH = "/api/v1/notifications/segments/";
const MEMBERS_PATH = /^\/api\/v1\/notifications\/segments\/([^/]+)\/members$/;
const FORMAT_OF_MEDIA_TYPE: Record<string, UploadFormat> = {
  "text/csv": "csv",
  "application/csv": "csv",
  "application/x-ndjson": "ndjson",
  "application/ndjson": "ndjson",
  "application/jsonl": "ndjson",
};
const RETRY_AFTER_SECONDS = 5;

/**
 * `POST /api/v1/notifications/segments/{segment_id}/members`: a segment's members streamed as
 * CSV or NDJSON (by Content-Type), read line by line as they arrive and written in batches,
 * so millions of rows are never held; it answers the segment with its upload report, as
 * GetSegment does. A plain endpoint rather than a REST route: the transcoder reads a body
 * whole, within REQUEST_MAX_BYTES. Callers are checked as CreateSegment's (`authorize`), and
 * at most `uploadsPerProcess` uploads run at once, each holding a database connection.
 */
export function createSegmentUploadEndpoint(deps: {
  segments: Pick<SegmentManager, "upload">;
  authorize: (headers: Headers) => Promise<Caller>;
  uploadsPerProcess: number;
  logger: Logger;
}) {
  let running = 0;
  return async function serveSegmentUpload(request: Request, response: Response): Promise<boolean> {
    // Every API request passes here first: a string test, not a URL parse, for the others.
    if (!request.url?.startsWith(SEGMENTS_PATH)) return false;
    const match = MEMBERS_PATH.exec(request.url.split("?", 1)[0] ?? "");
    if (!match) return false;
    const startedAt = performance.now();
    try {
      if (request.method !== "POST") {
        response.setHeader("allow", "POST");
        throw new DomainError(ErrorCatalog.methodNotAllowed, "a segment's members are POSTed");
      }
      const caller = await deps.authorize(headersOf(request));
      // A UUID has nothing to percent-decode: whatever is escaped is no segment id.
      const id = match[1] ?? "";
      if (!isUuid(id)) {
        throw new DomainError(ErrorCatalog.validation, "segment_id must be a UUID", {
          parameter: "segment_id",
        });
      }
      const format = formatOf(request.headers["content-type"], request.headers["content-encoding"]);
      if (running >= deps.uploadsPerProcess) {
        response.setHeader("retry-after", String(RETRY_AFTER_SECONDS));
        throw new DomainError(
          ErrorCatalog.rateLimited,
          `${running} uploads are running in this process: retry in ${RETRY_AFTER_SECONDS} s`,
        );
      }
      running++;
      try {
        // Not destroyed when the upload stops reading early: the refusal is still to be written.
        const body = request.iterator({ destroyOnReturn: false });
        const segment = await deps.segments.upload(id, format, body, caller);
        const report = segment.uploadReport;
        deps.logger.info(
          {
            segmentId: id,
            format,
            rows: report?.rows,
            membersAdded: report?.membersAdded,
            badRows: report?.badRows,
            ms: Math.round(performance.now() - startedAt),
          },
          "segment uploaded",
        );
        writeJson(
          response,
          200,
          toJson(SegmentSchema, segmentMessage(segment), {
            useProtoFieldName: true,
            alwaysEmitImplicit: true,
          }),
        );
      } finally {
        running--;
      }
    } catch (error) {
      if (request.errored || response.destroyed) {
        // The client went away mid-upload; the transaction rolled back and there is no one to answer.
        deps.logger.info({ segmentId: match[1] }, "segment upload cut short by the client");
        return true;
      }
      if (!(error instanceof DomainError)) throw error;
      // The body may be left unread: a client still sending it learns to stop.
      if (!request.readableEnded) response.setHeader("connection", "close");
      writeRestError(response, error);
    }
    return true;
  };
}

function formatOf(contentType: string | undefined, contentEncoding: string | undefined): UploadFormat {
  const [mediaType = "", ...parameters] = (contentType ?? "").split(";").map((part) => part.trim());
  const format = FORMAT_OF_MEDIA_TYPE[mediaType.toLowerCase()];
  if (!format) {
    throw new DomainError(
      ErrorCatalog.unsupportedMediaType,
      `Content-Type ${contentType ? `"${contentType}"` : "missing"}: send text/csv (a user_id column) or application/x-ndjson ({"user_id": "…"} a line)`,
    );
  }
  const charset = parameters
    .find((parameter) => parameter.toLowerCase().startsWith("charset="))
    ?.slice("charset=".length)
    .replace(/"/g, "")
    .toLowerCase();
  if (charset && charset !== "utf-8" && charset !== "us-ascii") {
    throw new DomainError(ErrorCatalog.unsupportedMediaType, `charset ${charset}: an upload is UTF-8`);
  }
  if (contentEncoding && contentEncoding.toLowerCase() !== "identity") {
    throw new DomainError(
      ErrorCatalog.unsupportedMediaType,
      `Content-Encoding ${contentEncoding}: send the body uncompressed`,
    );
  }
  return format;
}
