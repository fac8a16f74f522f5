// Schemathesis, as a stranger would run it, against the built service over the OpenAPI
// document the service serves: every answer must be no 5xx and what the document says
// (status code, content type, body schema). Installed at a pinned version by
// `scripts/tools install`, which the test command runs.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import { sharedCipher } from "../support/recipient-cipher.ts";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { REPO_ROOT } from "../support/services.ts";

const SCHEMATHESIS = join(REPO_ROOT, ".local", "tools", "bin", "st");
const BASE = "/api/v1/notifications";
// The budget: a fixed seed, so that a run generates the same inputs (what the shared test
// database already holds still changes some answers), and as many cases per operation as
// take a few minutes on a two-core machine for the 54 operations. The time limit leaves room
// for a slow day: on 2026-12-03 the same run was still fuzzing when 240 s killed it.
const SEED = "20261201";
const MAX_EXAMPLES = "120";
const RUN_TIMEOUT_MS = 480_000;
const CHECKS = [
  "not_a_server_error",
  "status_code_conformance",
  "content_type_conformance",
  "response_schema_conformance",
  // The ETag of an answer has the format the document gives it.
  "response_headers_conformance",
];

interface Run {
  code: number | null;
  output: string;
  seconds: number;
}

/** Runs the CLI to its end, or kills it when the time is up; never throws on its exit code. */
function run(command: string, args: string[], cwd: string): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** Each distinct error the service logged, with the RPC it happened in and how often. */
function serverErrors(logs: Record<string, unknown>[]): string[] {
  const counts = new Map<string, number>();
  for (const line of logs) {
    if (line.level !== "error") continue;
    const err = (line.err ?? {}) as { type?: string; message?: string };
    const rpc = String(line.procedure ?? "").replace(/^https?:\/\/[^/]+\//, "");
    const what = `${rpc || "(no RPC)"}: ${err.type ?? ""} ${(err.message ?? String(line.message)).split("\n")[0]}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  return [...counts].map(([what, count]) => `  ${count} × ${what}`);
}

describe("schemathesis over the served OpenAPI document", () => {
  let service: ServiceProcess;
  let workDir: string;
  let apiKey: string;

  beforeAll(async () => {
    if (!existsSync(SCHEMATHESIS)) {
      throw new Error(`${SCHEMATHESIS} is missing: run scripts/tools install (the test command does)`);
    }
    // Few logs: thousands of requests at debug level would only fill the test's memory.
    service = await startServiceProcess({ env: { ...AUTH_ENV, ...sharedCipher().env, LOG_LEVEL: "warn" } });
    const created = await fetch(`${service.httpUrl}${BASE}/api-keys`, {
      method: "POST",
      headers: { ...authHeaders("e2e-schemathesis"), "content-type": "application/json" },
      body: JSON.stringify({ name: "schemathesis e2e", roles: ["ROLE_ADMIN"] }),
    });
    expect(created.status, service.output()).toBe(200);
    apiKey = ((await created.json()) as { secret: string }).secret;
    // Schemathesis keeps its example database and reports in the directory it runs in.
    workDir = await mkdtemp(join(tmpdir(), "schemathesis-"));
  });

  afterAll(async () => {
    await service?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it(
    "finds no server error and no answer that the document does not describe",
    async () => {
      const args = [
        "run",
        `${service.httpUrl}${BASE}/openapi.json`,
        ...["--header", `X-Api-Key: ${apiKey}`],
        // Our key authenticates every case; generated credentials would only get 401s.
        ...["--generation-with-security-parameters", "false"],
        ...["--checks", CHECKS.join(",")],
        // Positive and negative cases: error answers must match the document too.
        ...["--mode", "all"],
        // Stateful too: the document's links chain a created template to its versions,
        // their activation and a preview, which random ids never reach.
        ...["--phases", "examples,coverage,fuzzing,stateful"],
        ...["--seed", SEED],
        ...["--max-examples", MAX_EXAMPLES],
        ...["--generation-database", "none"],
        ...["--request-timeout", "10"],
        "--continue-on-failure",
        "--no-color",
      ];
      const result = await run(SCHEMATHESIS, args, workDir);
      const printed = result.output.replaceAll(apiKey, "[api key]");
      const cases = Number(/(\d+) generated/.exec(printed)?.[1] ?? 0);
      console.log(
        `schemathesis: ${cases} cases in ${result.seconds.toFixed(1)} s (seed ${SEED}, ` +
          `at most ${MAX_EXAMPLES} per operation), exit code ${result.code}`,
      );
      expect(cases, `schemathesis ran no case:\n${printed}`).toBeGreaterThan(0);
      // Its failures, each with a curl command that reproduces it; the whole output otherwise.
      // Schemathesis shows one failure per operation and check, so the service's own error
      // logs tell the distinct causes behind its 5xx.
      const failures = /^=+ FAILURES =+$([\s\S]*?)^=+ (?:WARNINGS|SUMMARY) =+$/m.exec(printed)?.[1];
      const causes = serverErrors(service.logs);
      if (causes.length > 0) console.log(`the service logged errors:\n${causes.join("\n")}`);
      expect(result.code, [failures ?? printed, ...causes].join("\n")).toBe(0);
    },
    RUN_TIMEOUT_MS + 30_000,
  );
});
