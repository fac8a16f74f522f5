import { DomainError, ErrorCatalog } from "../errors.ts";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Cuts an upload's bytes into lines as they arrive, keeping no more than the unfinished line
 * between chunks: an upload of millions of rows is never held whole. A line longer than
 * `maxLineBytes` is refused (VALIDATION_ERROR naming it) rather than buffered: one user id a
 * line takes a few dozen bytes, so such a line means the wrong file.
 */
export class UploadLines {
  private carried: Buffer[] = [];
  private carriedBytes = 0;
  private line = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Hands `take` each line `chunk` completes, without its line break (LF or CRLF), with its number from 1. */
  push(chunk: Uint8Array, take: (text: string, line: number) => void): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    let start = 0;
    for (let end = bytes.indexOf(NEWLINE); end !== -1; end = bytes.indexOf(NEWLINE, start)) {
      this.lineOf(bytes, start, end, take);
      start = end + 1;
    }
    if (start < bytes.length) {
      this.carriedBytes += bytes.length - start;
      this.assertWithin(this.line + 1, this.carriedBytes);
      this.carried.push(bytes.subarray(start));
    }
  }

  /** Hands `take` the last line, when the upload does not end with a line break. */
  end(take: (text: string, line: number) => void): void {
    if (this.carriedBytes === 0) return;
    const rest = Buffer.concat(this.carried);
    this.carried = [];
    this.carriedBytes = 0;
    this.lineOf(rest, 0, rest.length, take);
  }

  private lineOf(
    bytes: Buffer,
    start: number,
    end: number,
    take: (text: string, line: number) => void,
  ): void {
    this.line++;
    let whole = bytes;
    let from = start;
    let to = end;
    if (this.carriedBytes > 0) {
      this.assertWithin(this.line, this.carriedBytes + (end - start));
      whole = Buffer.concat([...this.carried, bytes.subarray(start, end)]);
      from = 0;
      to = whole.length;
      this.carried = [];
      this.carriedBytes = 0;
    } else {
      this.assertWithin(this.line, end - start);
    }
    if (to > from && whole[to - 1] === CARRIAGE_RETURN) to--;
    take(whole.toString("utf8", from, to), this.line);
  }

  private assertWithin(line: number, bytes: number): void {
    if (bytes > this.maxLineBytes) {
      throw new DomainError(
        ErrorCatalog.validation,
        `line ${line} is longer than ${this.maxLineBytes} bytes: an upload is one user id a line, as CSV or NDJSON`,
      );
    }
  }
}
