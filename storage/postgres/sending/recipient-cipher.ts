import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from "node:crypto";

/** An AES-256 key and the id it is known by, so a row names the key it was sealed with. */
export interface CipherKey {
  id: string;
  /** 32 bytes. */
  secret: Buffer;
}

const IV_BYTES = 12;
// IVs are cut from one draw of this many: a draw of 12 bytes per seal was 2% of a worker's CPU.
const IVS_PER_DRAW = 1024;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Recipient addresses and tokens at rest (ФЗ-152): AES-256-GCM under the current key, the
 * row's message id as associated data so a sealed value cannot be moved to another row, and
 * older keys kept for opening what they sealed until it is re-sealed or expires. Where a
 * lookup needs the address, a keyed hash (HMAC-SHA-256) stands in for it.
 */
export class RecipientCipher {
  // Key objects made once: from a raw Buffer, Node makes one on every call, which was the
  // larger part of sealing a message.
  private readonly byId = new Map<string, KeyObject>();
  private readonly currentKey: KeyObject;
  private readonly lookupKey: KeyObject;
  private ivs = Buffer.alloc(0);
  private ivAt = 0;

  constructor(
    private readonly current: CipherKey,
    older: readonly CipherKey[],
    lookupSecret: Buffer,
  ) {
    for (const key of [current, ...older]) {
      if (!KEY_ID.test(key.id)) throw new Error(`a key id is 1 to 32 of A-Z a-z 0-9 _ -, got "${key.id}"`);
      if (key.secret.length !== 32)
        throw new Error(`key ${key.id} must have 32 bytes, it has ${key.secret.length}`);
      if (this.byId.has(key.id)) throw new Error(`two keys have the id ${key.id}`);
      this.byId.set(key.id, createSecretKey(key.secret));
    }
    if (lookupSecret.length < 32) throw new Error("the lookup key must have at least 32 bytes");
    this.currentKey = this.byId.get(current.id) as KeyObject;
    this.lookupKey = createSecretKey(lookupSecret);
  }

  /** `keyId.iv.ciphertext.tag`, base64url parts. */
  seal(plain: string, messageId: string): string {
    const iv = this.nextIv();
    const cipher = createCipheriv("aes-256-gcm", this.currentKey, iv);
    cipher.setAAD(Buffer.from(messageId));
    const sealed = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return [this.current.id, iv, sealed, cipher.getAuthTag()]
      .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
      .join(".");
  }

  /** Fresh random bytes, each used for one seal only, as GCM requires. */
  private nextIv(): Buffer {
    if (this.ivAt + IV_BYTES > this.ivs.length) {
      this.ivs = randomBytes(IV_BYTES * IVS_PER_DRAW);
      this.ivAt = 0;
    }
    const iv = this.ivs.subarray(this.ivAt, this.ivAt + IV_BYTES);
    this.ivAt += IV_BYTES;
    return iv;
  }

  /** Throws when the value was changed, belongs to another message, or its key is gone. */
  open(sealed: string, messageId: string): string {
    const [keyId, iv, data, tag, ...rest] = sealed.split(".");
    if (
      keyId === undefined ||
      iv === undefined ||
      data === undefined ||
      tag === undefined ||
      rest.length > 0
    ) {
      throw new Error("not a sealed recipient");
    }
    const secret = this.byId.get(keyId);
    if (!secret) throw new Error(`sealed with key ${keyId}, which is not configured`);
    const decipher = createDecipheriv("aes-256-gcm", secret, Buffer.from(iv, "base64url"), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(messageId));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  }

  /** The same address always gives the same hash, which says nothing of it without the key. */
  lookupHash(plain: string): string {
    return createHmac("sha256", this.lookupKey).update(plain, "utf8").digest("hex");
  }

  /** Whether a value was sealed with another key than the current one, and so is due for re-sealing. */
  sealedWithOlderKey(sealed: string): boolean {
    return !sealed.startsWith(`${this.current.id}.`);
  }
}
