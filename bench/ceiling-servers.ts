// The two ceilings `npm run bench:api` measures the service against, each in its own
// process so it has an event loop of its own, as the service does:
//   node bench/ceiling-servers.ts http <port>     a bare node:http server answering a fixed JSON body
//   node bench/ceiling-servers.ts connect <port>  a bare connect-node router, no interceptors, whose one
//                                                 handler answers GetTemplate with a fixed template
// Prints "listening" once the port is open.
import * as http from "node:http";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Channel } from "../gen/platform/notification/v1/common_pb.ts";
import { TemplateSchema, TemplateService } from "../gen/platform/notification/v1/template_service_pb.ts";

const [kind, portText] = process.argv.slice(2);
const port = Number(portText);

const now = timestampFromDate(new Date());
const template = create(TemplateSchema, {
  id: "3c51571c-395a-409f-a26c-35584f5c2421",
  name: "bench_template",
  channelType: Channel.EMAIL,
  defaultLanguageCode: "ru",
  revision: 1n,
  createTime: now,
  updateTime: now,
});

let handler: http.RequestListener;
if (kind === "http") {
  const body = JSON.stringify({ id: template.id, name: template.name, channel_type: "CHANNEL_EMAIL" });
  handler = (_request, response) => {
    response.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    response.end(body);
  };
} else if (kind === "connect") {
  handler = connectNodeAdapter({
    routes: (router) => {
      router.service(TemplateService, { getTemplate: () => template });
    },
  });
} else {
  throw new Error(`usage: ceiling-servers.ts http|connect <port>, got ${kind}`);
}

http.createServer({ keepAliveTimeout: 5_000 }, handler).listen(port, "127.0.0.1", () => {
  console.log("listening");
});

// A normal exit, so `--cpu-prof` writes its profile when the bench stops the process.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));
