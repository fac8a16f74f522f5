import { type PageRoute, readPageJson } from "./peer-page.ts";

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
