import { randomBytes } from "node:crypto";
import { RecipientCipher } from "../../storage/index.ts";

/** A cipher with fresh keys, for tests that write the message log. */
export function testCipher(): RecipientCipher {
  return new RecipientCipher({ id: "test-1", secret: randomBytes(32) }, [], randomBytes(32));
}
