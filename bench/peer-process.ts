// One provider peer in a process of its own, for benchmarks: its work on what arrives does
// not share the measured process's event loop, and killing or stopping the process is a
// provider that died or hangs. `node bench/peer-process.ts smtp|fcm|apns`. Prints one JSON
// line once listening (its port, certificate and the credentials it takes), then one line
// `{"received":"<our message id>","at":<epoch ms>}` per message it accepts. SIGTERM stops it.

import { startApnsPeer, startFcmPeer, startSmtpPeer } from "../scripts/provider-peers/index.ts";
import { pemKeyPair } from "../test/support/key-pairs.ts";

const kind = process.argv[2];
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const received = (id: string | undefined) => say({ received: id ?? "", at: Date.now() });

let close: () => Promise<void>;
if (kind === "smtp") {
  const peer = await startSmtpPeer({
    user: "bench",
    password: "bench",
    remember: 1,
    // Before its 250: a message the peer dies right after accepting is still told (stdout to a pipe is synchronous).
    onReceived: (message) => received(message.headers["x-notification-id"]?.[0]),
  });
  close = () => peer.close();
  say({ port: peer.port, ca: peer.ca, user: "bench", password: "bench" });
} else if (kind === "fcm") {
  const account = pemKeyPair("rsa");
  const projectId = "bench-project";
  const clientEmail = `bench@${projectId}.iam.gserviceaccount.com`;
  const peer = await startFcmPeer({ projectId, clientEmail, publicKey: account.publicKey, remember: 1 });
  close = () => peer.close();
  say({ port: peer.port, ca: peer.ca, projectId, clientEmail, privateKey: account.privateKey });
} else if (kind === "apns") {
  const key = pemKeyPair("ec");
  const apple = { teamId: "BENCHTEAM1", keyId: "BENCHKEY01", topic: "ru.bench.app" };
  const peer = await startApnsPeer({ ...apple, publicKey: key.publicKey, remember: 1 });
  close = () => peer.close();
  say({ port: peer.port, ca: peer.ca, ...apple, key: key.privateKey });
} else {
  throw new Error(`usage: peer-process.ts smtp|fcm|apns, got ${kind}`);
}
process.once("SIGTERM", () => {
  void close().then(() => process.exit(0));
});
