import { randomBytes } from "node:crypto";
import { RecipientCipher } from "../../storage/index.ts";

/** A cipher with fresh keys, for tests that write the message log. */
export function testCipher(): RecipientCipher {
  return new RecipientCipher({ id: "test-1", secret: randomBytes(32) }, [], randomBytes(32));
}

/**
 * Fresh recipient keys as a service process reads them (RECIPIENT_KEY_ID, RECIPIENT_KEY, RECIPIENT_LOOKUP_KEY),
 * and the same keys as a cipher, for a test that seals the rows the process then reads.
 */
export function sharedCipher(): { env: Record<string, string>; cipher: RecipientCipher } {
  const secret = randomBytes(32);
  const lookup = randomBytes(32);
  return {
    env: {
      RECIPIENT_KEY_ID: "e2e-1",
      RECIPIENT_KEY: secret.toString("base64"),
      RECIPIENT_LOOKUP_KEY: lookup.toString("base64"),
    },
    cipher: new RecipientCipher({ id: "e2e-1", secret }, [], lookup),
  };
}
