import { BoundedMap } from "../bounded-map.ts";
import { type LinkedHtml, linkedHtml, trackedHtml } from "./tracked-html.ts";
import type { TrackingLinks } from "./tracking-links.ts";

// Renders a batch sends over and over (a bulk send renders once for all its recipients);
// each cut holds about twice its HTML, at most 512 KiB each (TEMPLATE_RENDER_MAX_OUTPUT_BYTES).
const CUTS_KEPT = 16;

/**
 * Open and click tracking of an email's HTML, as the orchestrator queues each message: its
 * links go through their signed redirects and an open pixel is added, both naming the
 * message. The HTML of a render is cut at its links once, so a bulk send signs each
 * recipient's links without reading the HTML again.
 */
export class EmailTracking {
  private readonly cuts = new BoundedMap<string, LinkedHtml>(CUTS_KEPT);

  constructor(
    private readonly links: Pick<TrackingLinks, "openUrl" | "clickUrl" | "isOwn">,
    private readonly now: () => Date = () => new Date(),
  ) {}

  track(html: string, messageId: string): string {
    const at = this.now();
    return trackedHtml(this.cutOf(html), {
      open: this.links.openUrl(messageId, at),
      click: (target) => this.links.clickUrl(messageId, target, at),
    });
  }

  private cutOf(html: string): LinkedHtml {
    const kept = this.cuts.get(html);
    if (kept) return kept;
    const cut = linkedHtml(html, (url) => !this.links.isOwn(url));
    this.cuts.set(html, cut);
    return cut;
  }
}
