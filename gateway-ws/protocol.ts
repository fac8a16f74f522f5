import { create, fromJsonString, type MessageInitShape, toJsonString } from "@bufbuild/protobuf";
import type { InboxChange } from "../core/inbox/index.ts";
import {
  type ClientFrame,
  ClientFrameSchema,
  InboxChange as InboxChangeProto,
  ServerFrameSchema,
} from "../gen/platform/notification/gateway/v1/frames_pb.ts";
import { contractValidator } from "../mappers/index.ts";

/** The protocol's version, in Ready and in the subprotocol a client asks for. */
export const PROTOCOL_VERSION = "1";
/** The WebSocket subprotocol of this version; a client sending its token in the header must offer it. */
export const SUBPROTOCOL = "notification.v1";
/** A subprotocol offered as `bearer.<JWT>` carries the token instead of the Auth frame. */
const BEARER_PREFIX = "bearer.";

/** Close codes, as gateway-ws/PROTOCOL.md documents them. */
export const CloseCode = {
  normal: 1000,
  /** A frame larger than the limit (ws closes with it itself). */
  tooBig: 1009,
  /** Something of ours failed; reconnect. */
  internalError: 1011,
  /** The gateway is shutting down: reconnect, to any instance. */
  serviceRestart: 1012,
  /** The gateway cannot take the connection now (its inbox store or feed is down): retry later. */
  tryAgainLater: 1013,
  /** No Auth in time, or a token that is not valid. */
  unauthenticated: 4001,
  /** The token expired while connected: reconnect with a fresh one. */
  tokenExpired: 4002,
  /** The token is valid but not a user's. */
  forbidden: 4003,
  /** The client did not read fast enough: its send buffer was full. */
  slowConsumer: 4008,
  /** The user already has as many connections as allowed. */
  tooManyConnections: 4009,
  /** A frame out of order (a second Auth, anything before Auth). */
  protocolViolation: 4010,
} as const;

export type ServerFrameInit = MessageInitShape<typeof ServerFrameSchema>;

const validator = contractValidator();

export type ParsedClientFrame = { ok: true; frame: ClientFrame["frame"] } | { ok: false; reason: string };

/** A text frame from a client: protobuf JSON of a ClientFrame, checked against its rules. */
export function parseClientFrame(text: string): ParsedClientFrame {
  let frame: ClientFrame;
  try {
    frame = fromJsonString(ClientFrameSchema, text);
  } catch (error) {
    return {
      ok: false,
      reason: `not a ClientFrame: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const result = validator.validate(ClientFrameSchema, frame);
  if (result.kind === "invalid") {
    const [first] = result.violations;
    if (!first) return { ok: false, reason: "invalid frame" };
    const field = first.field.map((part) => ("name" in part ? part.name : "")).filter(Boolean);
    return { ok: false, reason: `${field.join(".")}: ${first.message}` };
  }
  if (result.kind === "error") return { ok: false, reason: result.error.message };
  return { ok: true, frame: frame.frame };
}

export function encodeServerFrame(frame: ServerFrameInit): string {
  // Zeros and empty strings too, so a client reads every field of a frame without knowing proto3 defaults.
  return toJsonString(ServerFrameSchema, create(ServerFrameSchema, frame), { alwaysEmitImplicit: true });
}

const CHANGES: Record<InboxChange, InboxChangeProto> = {
  read: InboxChangeProto.READ,
  unread: InboxChangeProto.UNREAD,
  archived: InboxChangeProto.ARCHIVED,
};

export function inboxChangeProto(change: InboxChange): InboxChangeProto {
  return CHANGES[change];
}

/** The subprotocols a client offered: whether it offered ours, and the token it put among them. */
export function readSubprotocols(offered: ReadonlySet<string>): { ours: boolean; token?: string } {
  const bearer = [...offered].find((protocol) => protocol.startsWith(BEARER_PREFIX));
  return {
    ours: offered.has(SUBPROTOCOL),
    ...(bearer ? { token: bearer.slice(BEARER_PREFIX.length) } : {}),
  };
}
