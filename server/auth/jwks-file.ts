import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";

export interface JwksFileOptions {
  /** The least time between two reloads for a token whose kid the loaded set lacks. */
  refreshMs: number;
  /** A set older than this is reloaded at the next token, so removed keys stop working. */
  maxAgeMs: number;
  now?: () => number;
}

/**
 * A JSON Web Key Set read from a file (a mounted secret, say), reloaded when a token names a
 * key it lacks (rotation), at most once per `refreshMs`, and when older than `maxAgeMs`. The
 * first read is synchronous so a missing or malformed file stops the process at start.
 */
export function createJwksFromFile(path: string, options: JwksFileOptions): JWTVerifyGetKey {
  const now = options.now ?? Date.now;
  let keys = createLocalJWKSet(parse(readFileSync(path, "utf8"), path));
  let loadedAt = now();
  let reloading: Promise<void> | undefined;

  const reload = () => {
    reloading ??= readFile(path, "utf8")
      .then((text) => {
        keys = createLocalJWKSet(parse(text, path));
        loadedAt = now();
      })
      .finally(() => {
        reloading = undefined;
      });
    return reloading;
  };

  return async (header, token) => {
    if (now() - loadedAt >= options.maxAgeMs) await reload();
    try {
      return await keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || now() - loadedAt < options.refreshMs) throw error;
      await reload();
      return keys(header, token);
    }
  };
}

function parse(text: string, path: string): JSONWebKeySet {
  try {
    return JSON.parse(text) as JSONWebKeySet;
  } catch (error) {
    throw new Error(`the JWKS file ${path} is not JSON: ${(error as Error).message}`);
  }
}
