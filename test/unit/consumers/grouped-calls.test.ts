import { describe, expect, it } from "vitest";
import { groupedCalls } from "../../../consumers/grouped-calls.ts";

/** A batch operation whose runs wait until released, recording the items of each run. */
function heldOperation(fails: (items: number[]) => boolean = () => false) {
  const runs: number[][] = [];
  const releases: (() => void)[] = [];
  const call = async (items: number[]) => {
    runs.push(items);
    await new Promise<void>((resolve) => releases.push(resolve));
    if (fails(items)) throw new Error(`refused ${items.join(",")}`);
    return items.map((item) => item * 10);
  };
  const release = async () => {
    for (let turn = 0; turn < 10; turn++) {
      for (const next of releases.splice(0)) next();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { call, runs, release };
}

describe("groupedCalls", () => {
  it("runs an idle call at once, and the calls that waited meanwhile together, each with its own results", async () => {
    const { call, runs, release } = heldOperation();
    const grouped = groupedCalls(call, { concurrency: 1, maxItems: 100 });
    const first = grouped([1, 2]);
    expect(runs).toEqual([[1, 2]]);
    const second = grouped([3]);
    const third = grouped([4, 5]);
    await release();
    expect(runs).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    expect(await first).toEqual([10, 20]);
    expect(await second).toEqual([30]);
    expect(await third).toEqual([40, 50]);
  });

  it("keeps to maxItems per run and to its concurrency", async () => {
    const { call, runs, release } = heldOperation();
    const grouped = groupedCalls(call, { concurrency: 2, maxItems: 3 });
    const calls = [grouped([1]), grouped([2]), grouped([3, 4]), grouped([5]), grouped([6, 7, 8, 9])];
    // Two run at once; the rest wait, then go in runs of at most three items, one caller over it alone.
    expect(runs).toEqual([[1], [2]]);
    await release();
    expect(runs).toEqual([[1], [2], [3, 4, 5], [6, 7, 8, 9]]);
    expect(await Promise.all(calls)).toEqual([[10], [20], [30, 40], [50], [60, 70, 80, 90]]);
  });

  it("runs a failed group again per caller: only the caller whose items fail gets the error", async () => {
    const { call, runs, release } = heldOperation((items) => items.includes(4));
    const grouped = groupedCalls(call, { concurrency: 1, maxItems: 100 });
    const first = grouped([1]);
    const good = grouped([2, 3]);
    const bad = grouped([4]);
    const failed = expect(bad).rejects.toThrow("refused 4");
    await release();
    expect(runs).toEqual([[1], [2, 3, 4], [2, 3], [4]]);
    expect(await first).toEqual([10]);
    expect(await good).toEqual([20, 30]);
    await failed;
  });
});
