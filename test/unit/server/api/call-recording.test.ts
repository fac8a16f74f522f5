import { describe, expect, it } from "vitest";
import { createCallRecorder } from "../../../../server/api/call-recording.ts";
import { createMetrics } from "../../../../server/metrics.ts";

function recorder(successSampleRate: number, draws: number[] = []) {
  const lines: Record<string, unknown>[] = [];
  const logger = {
    debug: () => {},
    info: (fields: object, message: string) => lines.push({ ...fields, message }),
    warn: () => {},
    error: () => {},
    child: () => logger,
  };
  const metrics = createMetrics();
  const record = createCallRecorder(logger, metrics, { successSampleRate, random: () => draws.shift() ?? 0 });
  return { record, lines, metrics };
}

const call = { procedure: "p.S/M", surface: "rest", stage: "rpc", startedAt: performance.now() } as const;

describe("the call recorder", () => {
  it("logs every failed call, samples the successful ones, and counts them all", async () => {
    const { record, lines, metrics } = recorder(0.25, [0.1, 0.9, 0.3]);
    for (let i = 0; i < 3; i++) record({ ...call, code: "ok" });
    record({ ...call, code: "NotFound", reason: "no such template" });
    expect(lines).toEqual([
      {
        procedure: "p.S/M",
        surface: "rest",
        stage: "rpc",
        code: "ok",
        durationMs: expect.any(Number),
        message: "rpc",
      },
      expect.objectContaining({ code: "NotFound", reason: "no such template", message: "rpc" }),
    ]);
    const counts = (await metrics.rpcRequests.get()).values.map(({ labels, value }) => [labels, value]);
    expect(counts).toEqual([
      [{ procedure: "p.S/M", surface: "rest", stage: "rpc", code: "ok" }, 3],
      [{ procedure: "p.S/M", surface: "rest", stage: "rpc", code: "NotFound" }, 1],
    ]);
    const observed = (await metrics.rpcDuration.get()).values.find((each) =>
      each.metricName?.endsWith("_count"),
    );
    expect(observed).toMatchObject({
      labels: { procedure: "p.S/M", surface: "rest", stage: "rpc" },
      value: 4,
    });
  });

  it("logs no successful call at rate 0 and each of them at rate 1", () => {
    const none = recorder(0);
    const all = recorder(1, [0.99]);
    for (const { record } of [none, all]) record({ ...call, code: "ok" });
    expect(none.lines).toHaveLength(0);
    expect(all.lines).toHaveLength(1);
  });
});
