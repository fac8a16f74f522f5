// The Confluent wire format that Confluent's serializers (Java, Go, Python, .NET) write:
// a zero magic byte, the schema's registry id (4 bytes, big-endian), then for Protobuf the
// path of the message in its file as zigzag varints (a count, then the indexes; [0], the
// first message, is written as a lone 0), then the payload itself.

const MAGIC = 0;
const HEADER_BYTES = 5;
// No file nests messages deeper than this; a longer path is a broken frame, not a schema.
const MAX_INDEXES = 32;

export interface ConfluentFrame {
  schemaId: number;
  /** Protobuf only: the message's path in its file, [0] for the first top-level message. */
  messageIndexes: number[];
  payload: Uint8Array;
}

export type Unframed = { framed: true; frame: ConfluentFrame } | { framed: false; detail: string };

export function frameAvro(schemaId: number, payload: Uint8Array): Uint8Array {
  return concat([header(schemaId), payload]);
}

export function frameProtobuf(schemaId: number, messageIndexes: number[], payload: Uint8Array): Uint8Array {
  const indexes =
    messageIndexes.length === 1 && messageIndexes[0] === 0
      ? [0]
      : [messageIndexes.length, ...messageIndexes].flatMap(zigzagVarint);
  return concat([header(schemaId), Uint8Array.from(indexes), payload]);
}

export function unframeAvro(bytes: Uint8Array): Unframed {
  const start = headerOf(bytes);
  if (typeof start === "string") return { framed: false, detail: start };
  return {
    framed: true,
    frame: { schemaId: start, messageIndexes: [], payload: bytes.subarray(HEADER_BYTES) },
  };
}

export function unframeProtobuf(bytes: Uint8Array): Unframed {
  const schemaId = headerOf(bytes);
  if (typeof schemaId === "string") return { framed: false, detail: schemaId };
  let offset = HEADER_BYTES;
  const read = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = bytes[offset++];
      if (byte === undefined) return undefined;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return (value >>> 1) ^ -(value & 1);
    }
    return undefined;
  };
  const count = read();
  if (count === undefined || count < 0 || count > MAX_INDEXES) {
    return { framed: false, detail: "the message-index array is malformed" };
  }
  const messageIndexes: number[] = [];
  for (let i = 0; i < count; i++) {
    const index = read();
    if (index === undefined || index < 0)
      return { framed: false, detail: "the message-index array is malformed" };
    messageIndexes.push(index);
  }
  return {
    framed: true,
    frame: { schemaId, messageIndexes: count === 0 ? [0] : messageIndexes, payload: bytes.subarray(offset) },
  };
}

function header(schemaId: number): Uint8Array {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
    throw new Error(`a schema id is a non-negative 32-bit integer, got ${schemaId}`);
  }
  const bytes = new Uint8Array(HEADER_BYTES);
  bytes[0] = MAGIC;
  new DataView(bytes.buffer).setUint32(1, schemaId);
  return bytes;
}

/** The schema id, or why the bytes are not a frame. */
function headerOf(bytes: Uint8Array): number | string {
  if (bytes.byteLength < HEADER_BYTES)
    return `${bytes.byteLength} bytes are too few for the Confluent framing`;
  if (bytes[0] !== MAGIC) return `the first byte is ${bytes[0]}, not the Confluent framing's magic 0`;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
}

function zigzagVarint(value: number): number[] {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  const out: number[] = [];
  while (zigzag > 0x7f) {
    out.push((zigzag & 0x7f) | 0x80);
    zigzag >>>= 7;
  }
  out.push(zigzag);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
