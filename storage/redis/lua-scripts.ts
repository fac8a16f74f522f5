import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** A Lua script with its SHA-1, by which Redis knows it once loaded. */
export interface Script {
  source: string;
  sha: string;
}

export function script(source: string): Script {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

// EVALSHA spares sending the script every time; Redis forgets scripts on restart, then EVAL loads it again.
export async function runScript(
  redis: Redis,
  script: Script,
  keys: string[],
  args: string[],
): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return redis.eval(script.source, keys.length, ...keys, ...args);
  }
}
