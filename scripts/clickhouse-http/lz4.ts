// The LZ4 frame format (lz4_Frame_format.md of lz4/lz4), which is what ClickHouse
// means by HTTP `Content-Encoding: lz4`: its Lz4InflatingReadBuffer and
// Lz4DeflatingWriteBuffer use the LZ4F API, not its native compressed blocks
// (those are `compress=1`). Clients such as clickhouse-connect send and read it
// with Python's lz4.frame. No lz4 package is installed for Node, and this is
// dev/test-only code, so the codec is here: a decoder for every frame the
// reference library writes (linked or independent blocks, optional checksums and
// content size, skippable frames), and a greedy block compressor for responses.

const frameMagic = 0x184d2204;
const skippableMagicMask = 0xfffffff0;
const skippableMagic = 0x184d2a50;
const minMatch = 4;
// The last match must start this far from the end of a block, and the last 5
// bytes are always literals (the block format's end-of-block conditions).
const matchLimit = 12;
const lastLiterals = 5;
const maxOffset = 65_535;
const blockSize = 64 * 1024;

export class Lz4FormatError extends Error {}

// xxHash32, as the frame format uses it for its header, block and content checksums.
const prime1 = 2654435761;
const prime2 = 2246822519;
const prime3 = 3266489917;
const prime4 = 668265263;
const prime5 = 374761393;
const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
const round = (acc: number, lane: number): number =>
  Math.imul(rotl((acc + Math.imul(lane, prime2)) | 0, 13), prime1);

export function xxh32(data: Uint8Array, seed = 0): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = data.length;
  let position = 0;
  let h: number;
  if (length >= 16) {
    let v1 = (seed + prime1 + prime2) | 0;
    let v2 = (seed + prime2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - prime1) | 0;
    for (; position + 16 <= length; position += 16) {
      v1 = round(v1, view.getUint32(position, true));
      v2 = round(v2, view.getUint32(position + 4, true));
      v3 = round(v3, view.getUint32(position + 8, true));
      v4 = round(v4, view.getUint32(position + 12, true));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + prime5) | 0;
  }
  h = (h + length) | 0;
  for (; position + 4 <= length; position += 4) {
    h = Math.imul(rotl((h + Math.imul(view.getUint32(position, true), prime3)) | 0, 17), prime4);
  }
  for (; position < length; position++) {
    h = Math.imul(rotl((h + Math.imul(data[position] as number, prime5)) | 0, 11), prime1);
  }
  h ^= h >>> 15;
  h = Math.imul(h, prime2);
  h ^= h >>> 13;
  h = Math.imul(h, prime3);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A growing output; matches read back from it, across blocks when they are linked. */
class Output {
  bytes = Buffer.allocUnsafe(blockSize);
  length = 0;

  reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + extra));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}

function decodeBlock(
  input: Buffer,
  start: number,
  end: number,
  out: Output,
  floor: number,
  maxBlock: number,
): void {
  out.reserve(maxBlock);
  const limit = out.length + maxBlock;
  const bytes = out.bytes;
  let ip = start;
  let op = out.length;
  const fail = (what: string): never => {
    throw new Lz4FormatError(`corrupt LZ4 block: ${what}`);
  };
  while (ip < end) {
    const token = input[ip++] as number;
    let literals = token >>> 4;
    if (literals === 15) {
      let more: number;
      do {
        if (ip >= end) fail("literal length runs past the block");
        more = input[ip++] as number;
        literals += more;
      } while (more === 255);
    }
    if (ip + literals > end || op + literals > limit) fail("literals run past the block");
    input.copy(bytes, op, ip, ip + literals);
    ip += literals;
    op += literals;
    if (ip === end) break;
    if (ip + 2 > end) fail("truncated match offset");
    const offset = (input[ip] as number) | ((input[ip + 1] as number) << 8);
    ip += 2;
    if (offset === 0 || op - offset < floor) fail("match offset outside the window");
    let matchLength = (token & 15) + minMatch;
    if ((token & 15) === 15) {
      let more: number;
      do {
        if (ip >= end) fail("match length runs past the block");
        more = input[ip++] as number;
        matchLength += more;
      } while (more === 255);
    }
    if (op + matchLength > limit) fail("match runs past the maximum block size");
    let from = op - offset;
    if (offset >= matchLength) {
      bytes.copy(bytes, op, from, from + matchLength);
      op += matchLength;
    } else {
      // Overlapping: each byte may be one this match has just written.
      for (let i = 0; i < matchLength; i++) bytes[op++] = bytes[from++] as number;
    }
  }
  out.length = op;
}

const blockMaxSizes: Record<number, number> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};

/** Decodes one or more concatenated LZ4 frames (skippable frames are skipped). */
export function lz4FrameDecode(input: Buffer): Buffer {
  const out = new Output();
  let position = 0;
  const need = (bytes: number, what: string): void => {
    if (position + bytes > input.length) throw new Lz4FormatError(`truncated LZ4 frame: ${what}`);
  };
  if (input.length === 0) throw new Lz4FormatError("empty LZ4 stream");
  while (position < input.length) {
    need(4, "magic number");
    const magic = input.readUInt32LE(position);
    position += 4;
    if ((magic & skippableMagicMask) >>> 0 === skippableMagic) {
      need(4, "skippable frame size");
      position += 4 + input.readUInt32LE(position);
      if (position > input.length) throw new Lz4FormatError("truncated skippable frame");
      continue;
    }
    if (magic !== frameMagic) throw new Lz4FormatError(`not an LZ4 frame (magic 0x${magic.toString(16)})`);
    need(3, "frame descriptor");
    const descriptorStart = position;
    const flags = input[position] as number;
    const blockDescriptor = input[position + 1] as number;
    position += 2;
    if (flags >>> 6 !== 1) throw new Lz4FormatError(`unsupported LZ4 frame version ${flags >>> 6}`);
    if ((flags & 0x02) !== 0 || (blockDescriptor & 0x8f) !== 0) throw new Lz4FormatError("reserved bits set");
    const independent = (flags & 0x20) !== 0;
    const blockChecksum = (flags & 0x10) !== 0;
    const hasContentSize = (flags & 0x08) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    const maxBlock = blockMaxSizes[(blockDescriptor >>> 4) & 7];
    if (maxBlock === undefined) throw new Lz4FormatError("invalid block maximum size");
    let contentSize: bigint | undefined;
    if (hasContentSize) {
      need(8, "content size");
      contentSize = input.readBigUInt64LE(position);
      position += 8;
    }
    if ((flags & 0x01) !== 0) throw new Lz4FormatError("LZ4 frames with a dictionary id are not supported");
    need(1, "header checksum");
    const headerChecksum = (xxh32(input.subarray(descriptorStart, position)) >>> 8) & 0xff;
    if (headerChecksum !== input[position]) throw new Lz4FormatError("header checksum mismatch");
    position++;
    const frameStart = out.length;
    for (;;) {
      need(4, "block size");
      const word = input.readUInt32LE(position);
      position += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > maxBlock) throw new Lz4FormatError("block larger than the frame's maximum");
      need(size + (blockChecksum ? 4 : 0), "block");
      if (
        blockChecksum &&
        xxh32(input.subarray(position, position + size)) !== input.readUInt32LE(position + size)
      ) {
        throw new Lz4FormatError("block checksum mismatch");
      }
      if ((word & 0x80000000) !== 0) {
        out.reserve(size);
        input.copy(out.bytes, out.length, position, position + size);
        out.length += size;
      } else {
        // Linked blocks may refer to the 64 KiB before them, within the same frame.
        const floor = independent ? out.length : Math.max(frameStart, out.length - maxOffset);
        decodeBlock(input, position, position + size, out, floor, maxBlock);
      }
      position += size + (blockChecksum ? 4 : 0);
    }
    const content = out.bytes.subarray(frameStart, out.length);
    if (contentSize !== undefined && BigInt(content.length) !== contentSize) {
      throw new Lz4FormatError("content size mismatch");
    }
    if (contentChecksum) {
      need(4, "content checksum");
      if (xxh32(content) !== input.readUInt32LE(position))
        throw new Lz4FormatError("content checksum mismatch");
      position += 4;
    }
  }
  return Buffer.from(out.bytes.subarray(0, out.length));
}

function writeLength(out: Buffer, position: number, length: number): number {
  let op = position;
  let rest = length - 15;
  while (rest >= 255) {
    out[op++] = 255;
    rest -= 255;
  }
  out[op++] = rest;
  return op;
}

/** One LZ4 block of `input[start, end)`, greedy with a 4-byte hash; returns its length in `out`. */
function encodeBlock(input: Buffer, start: number, end: number, out: Buffer, table: Int32Array): number {
  table.fill(-1);
  let op = 0;
  let anchor = start;
  let ip = start;
  const matchEnd = end - lastLiterals;
  const searchEnd = end - matchLimit;
  const emit = (literalEnd: number, matchLength: number, offset: number): void => {
    const literals = literalEnd - anchor;
    const tokenAt = op++;
    let token = Math.min(literals, 15) << 4;
    if (literals >= 15) op = writeLength(out, op, literals);
    input.copy(out, op, anchor, literalEnd);
    op += literals;
    if (matchLength > 0) {
      out[op++] = offset & 0xff;
      out[op++] = offset >>> 8;
      const extra = matchLength - minMatch;
      token |= Math.min(extra, 15);
      if (extra >= 15) op = writeLength(out, op, extra);
    }
    out[tokenAt] = token;
  };
  while (ip < searchEnd) {
    const sequence = input.readUInt32LE(ip);
    const slot = Math.imul(sequence, prime1) >>> 20;
    const candidate = table[slot] as number;
    table[slot] = ip;
    if (candidate < 0 || ip - candidate > maxOffset || input.readUInt32LE(candidate) !== sequence) {
      ip++;
      continue;
    }
    let length = minMatch;
    while (ip + length < matchEnd && input[candidate + length] === input[ip + length]) length++;
    emit(ip, length, ip - candidate);
    ip += length;
    anchor = ip;
  }
  emit(end, 0, 0);
  return op;
}

/**
 * One LZ4 frame: independent 64 KiB blocks, each stored raw when compressing does
 * not make it smaller, with the content checksum so a reader verifies the whole.
 */
export function lz4FrameEncode(input: Buffer): Buffer {
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0]);
  header[6] = (xxh32(header.subarray(4, 6)) >>> 8) & 0xff;
  const parts: Buffer[] = [header];
  const table = new Int32Array(4096);
  const scratch = Buffer.allocUnsafe(blockSize + Math.ceil(blockSize / 255) + 16);
  for (let start = 0; start < input.length; start += blockSize) {
    const end = Math.min(input.length, start + blockSize);
    const length = encodeBlock(input, start, end, scratch, table);
    const size = Buffer.allocUnsafe(4);
    if (length < end - start) {
      size.writeUInt32LE(length);
      parts.push(size, Buffer.from(scratch.subarray(0, length)));
    } else {
      size.writeUInt32LE(((end - start) | 0x80000000) >>> 0);
      parts.push(size, input.subarray(start, end));
    }
  }
  const trailer = Buffer.allocUnsafe(8);
  trailer.writeUInt32LE(0, 0);
  trailer.writeUInt32LE(xxh32(input), 4);
  parts.push(trailer);
  return Buffer.concat(parts);
}
