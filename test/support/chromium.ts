import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

// What the machine notes found Chromium needs here: its background connections are refused
// by the closed network, and each start would look up Google's hosts.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The Debian Chromium (scripts/tools installs it), headless, with a profile of its own in `dir`. */
export function launchChromium(
  dir: string,
  viewport: { width: number; height: number },
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(join(dir, "chromium-profile"), {
    executablePath: "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    viewport,
  });
}
