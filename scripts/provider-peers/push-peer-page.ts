import type { FaultControls } from "./peer-fault.ts";
import { type PageRoute, readPageJson } from "./peer-page.ts";
import type { PushFault } from "./push-fault.ts";
import type { ReceivedItems } from "./received-log.ts";

/** What the FCM and APNs peers both offer. */
export interface PushPeer<T> extends ReceivedItems<T>, FaultControls<PushFault> {
  readonly host: string;
  readonly port: number;
  /** The HTTP page: `GET /`, `GET` and `DELETE /messages`, `GET` and `POST /fault`, `POST /gone`. */
  readonly httpUrl: string;
  /** Cuts every connection and stops both servers. */
  close(): Promise<void>;
}

/** The push peers' own route on their page: `POST /gone` with `{"token": …}` marks a device token dead. */
export function goneRoute(markGone: (token: string) => void): PageRoute {
  return {
    POST: async (request, response) => {
      markGone(await readPageJson(request, tokenOf));
      response.writeHead(204).end();
    },
  };
}

function tokenOf(value: unknown): string {
  const token = (value as { token?: unknown } | null)?.token;
  if (typeof token !== "string" || token === "") throw new Error('the body is {"token": "<device token>"}');
  return token;
}
