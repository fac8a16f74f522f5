// Readiness of the local broker for scripts/services: exit 0 only when a real admin
// round trip works, since an open port proves nothing about a hung or half-started
// JVM, or about whose program is listening there. Usage: node ready.mjs HOST:PORT
import kafkajs from "kafkajs";

const { Kafka, logLevel } = kafkajs;
const broker = process.argv[2];
if (!broker) {
  console.error("usage: node ready.mjs HOST:PORT");
  process.exit(2);
}

// scripts/services polls this several times a second while the broker starts, so
// every attempt must give up fast instead of retrying on its own.
const deadline = setTimeout(() => {
  console.error(`kafka at ${broker}: no answer in time`);
  process.exit(1);
}, 2000);

const admin = new Kafka({
  clientId: "services-ready",
  brokers: [broker],
  connectionTimeout: 1000,
  requestTimeout: 1500,
  retry: { retries: 0 },
  logLevel: logLevel.NOTHING,
}).admin();

try {
  await admin.connect();
  const { brokers } = await admin.describeCluster();
  if (brokers.length === 0) throw new Error("no brokers registered");
  clearTimeout(deadline);
  await admin.disconnect();
  process.exit(0);
} catch (error) {
  console.error(`kafka at ${broker}: ${error.message}`);
  process.exit(1);
}
