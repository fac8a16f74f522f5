import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lz4FrameDecode, lz4FrameEncode } from "../../scripts/clickhouse-http/lz4.ts";
import { type ClickHouseFront, startClickHouseFront } from "../support/clickhouse-front.ts";
import { REPO_ROOT } from "../support/services.ts";

// HTTP lz4 as clickhouse-connect (ClickHouse's official Python client) uses it by
// default: the front's LZ4 frame codec checked against Python's lz4.frame, then the
// client itself, unmodified, against the front. Both run on the interpreter that
// `scripts/tools install` sets up with the pinned clickhouse-connect and lz4.

const PYTHON = join(REPO_ROOT, ".local", "tools", "bin", "clickhouse-connect-python");
const run = promisify(execFile);

async function python(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(PYTHON, args, { env: { ...process.env, ...env }, timeout: 60_000 });
  return stdout;
}

describe("the front's LZ4 frame codec against Python's lz4.frame", () => {
  let dir = "";
  const repetitive = Buffer.from("SELECT number, toString(number) FROM numbers(1000)\n".repeat(20_000));
  const inputs: Record<string, Buffer> = {
    empty: Buffer.alloc(0),
    short: Buffer.from("hello"),
    repetitive,
    random: randomBytes(300_000),
    // Runs shorter than a block, repeats far apart, and incompressible stretches mixed.
    mixed: Buffer.concat(
      Array.from({ length: 4_000 }, (_, i) =>
        i % 3 === 0
          ? randomBytes(40)
          : i % 3 === 1
            ? repetitive.subarray(i, i + 300)
            : Buffer.alloc(i % 97, 0x61),
      ),
    ),
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lz4-"));
    for (const [name, data] of Object.entries(inputs)) await writeFile(join(dir, `${name}.raw`), data);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("decodes every frame variant Python writes", async () => {
    // Linked and independent blocks, every block size, checksums, stored size, levels, and
    // two frames back to back with a skippable frame between them.
    const script = `
import glob, lz4.frame as f, struct, sys
variants = {
  "default": dict(),
  "independent-checksums-4mb": dict(block_linked=False, block_checksum=True, content_checksum=True, block_size=f.BLOCKSIZE_MAX4MB),
  "hc-256kb-nosize": dict(compression_level=16, store_size=False, block_size=f.BLOCKSIZE_MAX256KB),
  "1mb": dict(block_size=f.BLOCKSIZE_MAX1MB, content_checksum=True),
}
for path in glob.glob(sys.argv[1] + "/*.raw"):
    data = open(path, "rb").read()
    for name, options in variants.items():
        open(f"{path}.{name}.lz4", "wb").write(f.compress(data, **options))
    skippable = struct.pack("<II", 0x184D2A5A, 3) + b"abc"
    open(f"{path}.concatenated.lz4", "wb").write(f.compress(data) + skippable + f.compress(b"tail"))
`;
    await python(["-c", script, dir]);
    for (const [name, data] of Object.entries(inputs)) {
      for (const variant of ["default", "independent-checksums-4mb", "hc-256kb-nosize", "1mb"]) {
        const frame = await readFile(join(dir, `${name}.raw.${variant}.lz4`));
        expect(lz4FrameDecode(frame).equals(data), `${name} ${variant}`).toBe(true);
      }
      const concatenated = await readFile(join(dir, `${name}.raw.concatenated.lz4`));
      expect(lz4FrameDecode(concatenated).equals(Buffer.concat([data, Buffer.from("tail")]))).toBe(true);
    }
  });

  it("encodes frames Python reads back, compressed", async () => {
    for (const [name, data] of Object.entries(inputs))
      await writeFile(join(dir, `${name}.ours`), lz4FrameEncode(data));
    const script = `
import glob, json, lz4.frame as f, sys
out = {}
for path in glob.glob(sys.argv[1] + "/*.raw"):
    name = path.rsplit("/", 1)[1][:-4]
    out[name] = f.decompress(open(sys.argv[1] + "/" + name + ".ours", "rb").read()) == open(path, "rb").read()
print(json.dumps(out))
`;
    const verdicts = JSON.parse(await python(["-c", script, dir])) as Record<string, boolean>;
    expect(verdicts).toEqual(Object.fromEntries(Object.keys(inputs).map((name) => [name, true])));
    expect(lz4FrameEncode(repetitive).length).toBeLessThan(repetitive.length / 50);
    // Incompressible blocks are stored raw: the frame costs its header and block sizes only.
    expect(lz4FrameEncode(inputs.random as Buffer).length).toBeLessThan(300_000 + 64);
  });

  it("refuses corrupt frames with a reason", () => {
    const frame = lz4FrameEncode(repetitive);
    expect(() => lz4FrameDecode(Buffer.from("not lz4 at all"))).toThrow(/not an LZ4 frame/);
    expect(() => lz4FrameDecode(frame.subarray(0, frame.length - 10))).toThrow(/truncated/);
    const flipped = Buffer.from(frame);
    flipped[20] = (flipped[20] as number) ^ 0xff;
    expect(() => lz4FrameDecode(flipped)).toThrow(/corrupt|checksum/);
  });
});

describe("clickhouse-connect against the front", () => {
  // This tree's front, not the shared one, which may run another tree's code.
  let front: ClickHouseFront;
  beforeAll(async () => {
    front = await startClickHouseFront();
  });
  afterAll(async () => {
    await front?.dispose();
  });

  it("creates, inserts and selects with its default lz4 compression, and reads lz4 responses", async () => {
    const table = `test_connect_${randomUUID().replaceAll("-", "")}`;
    const output = await python([join(REPO_ROOT, "test", "integration", "clickhouse-connect.py")], {
      CLICKHOUSE_URL: front.url,
      TABLE: table,
      ROWS: "2500",
    });
    const result = JSON.parse(output) as Record<string, Record<string, unknown> | string | number>;
    // Its default: lz4 request bodies when the lz4 package is present, as here.
    expect(result.write_compression).toBe("lz4");
    expect(result.written_rows).toBe(2500);
    const name = (i: number): string => `name ${i} it's "quoted" ${"x".repeat(100)}`;
    expect(result.default).toEqual({
      rows: 2500,
      first: [0, name(0), ["t0"]],
      last: [2499, name(2499), ["t0"]],
    });
    expect(result.lz4_write_compression).toBe("lz4");
    expect(result.lz4).toEqual({ count: 2501, sum: (2499 * 2500) / 2 + 2501 });
    expect(result.raw).toMatchObject({ status: 200, content_encoding: "lz4", lines: 2501 });
    expect((result.raw as { compressed_bytes: number }).compressed_bytes).toBeLessThan(2501 * 120);
  });
});
