/**
 * A request's parameters as the vendor's server sees them: names, and values as the bytes they
 * stand for, so that a peer decodes them in the charset the request names and can tell text
 * that is not valid UTF-8. The query's come first, then the form body's (GET and POST alike).
 */
export class FormFields {
  private readonly fields: readonly (readonly [string, Buffer])[];

  private constructor(fields: readonly (readonly [string, Buffer])[]) {
    this.fields = fields;
  }

  static parse(query: string, body: Buffer): FormFields {
    const fields = [query, body.toString("latin1")]
      .flatMap((part) => part.split("&"))
      .filter((pair) => pair !== "")
      .map((pair): [string, Buffer] => {
        const equals = pair.indexOf("=");
        const name = equals < 0 ? pair : pair.slice(0, equals);
        const value = equals < 0 ? "" : pair.slice(equals + 1);
        return [percentDecode(name).toString("utf8"), percentDecode(value)];
      });
    return new FormFields(fields);
  }

  /** The last value of `name` (as PHP keeps it), decoded; undefined when it is not there. */
  text(name: string, charset = "utf-8"): string | undefined {
    const bytes = this.bytes(name);
    return bytes && new TextDecoder(charset).decode(bytes);
  }

  /** Whether `name`'s value is valid UTF-8 (true when it is not there). */
  validUtf8(name: string): boolean {
    const bytes = this.bytes(name);
    if (!bytes) return true;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      return true;
    } catch {
      return false;
    }
  }

  /** Every name with its value, whatever their order, for telling a request sent twice. */
  canonical(): string {
    return JSON.stringify(
      this.fields
        .map(([name, value]) => [name, value.toString("base64")])
        .sort(([a = ""], [b = ""]) => a.localeCompare(b)),
    );
  }

  private bytes(name: string): Buffer | undefined {
    return this.fields.findLast(([field]) => field === name)?.[1];
  }
}

// The body was read as latin1, one character per byte, so escapes and raw bytes come back alike.
function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? "";
    const hex = text.slice(i + 1, i + 3);
    if (char === "%" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(char === "+" ? 0x20 : char.charCodeAt(0) & 0xff);
    }
  }
  return Buffer.from(bytes);
}
