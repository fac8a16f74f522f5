/**
 * An email's HTML cut where its trackable links are: `texts[i]` comes before `links[i]`, the
 * last text after every link, and `tail` (from the closing `</body>` on) after the open pixel.
 * Cut once per render: each message of it then only signs its own links.
 */
export interface LinkedHtml {
  texts: string[];
  /** The targets of the links, in their order, each an absolute http(s) URL as a browser reads it. */
  links: string[];
  tail: string;
}

/** The tracking addresses of one message. */
export interface TrackingUrls {
  click(target: string): string;
  open: string;
}

// An <a> start tag, its quoted attribute values taken whole so that a ">" inside one does not end it.
const ANCHOR = /<a\b(?:"[^"]*"|'[^']*'|[^"'>])*>/gi;
// One attribute of a start tag and its value, quoted or not (the HTML tokenizer's rules, simplified).
const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
const BODY_END = /<\/body\s*>/gi;
// The references a URL in an attribute may hold: numeric ones (Mustache writes "/" as &#x2F;) and the few named ones that appear in URLs.
const REFERENCE = /&(?:#x([0-9a-f]+);?|#([0-9]+);?|([a-z][a-z0-9]*);)/gi;
const NAMED: Record<string, string> = { amp: "&", quot: '"', apos: "'", lt: "<", gt: ">" };

/**
 * Finds the links a message's tracking rewrites: the href of every `<a>` that is an http or
 * https URL and that `tracked` accepts (the caller leaves out its own links, such as the
 * unsubscribe one). mailto:, tel:, anchors, relative links and any href whose text cannot be
 * read for sure (an unknown character reference) stay as they are.
 */
export function linkedHtml(html: string, tracked: (url: string) => boolean): LinkedHtml {
  const texts: string[] = [];
  const links: string[] = [];
  let from = 0;
  for (const anchor of html.matchAll(ANCHOR)) {
    const href = hrefOf(anchor[0]);
    if (!href) continue;
    const target = absoluteHttpUrl(href.value);
    if (!target || !tracked(target)) continue;
    const start = (anchor.index ?? 0) + href.start;
    texts.push(html.slice(from, start));
    links.push(target);
    from = start + href.length;
  }
  const rest = html.slice(from);
  const bodyEnd = [...rest.matchAll(BODY_END)].at(-1)?.index ?? rest.length;
  texts.push(rest.slice(0, bodyEnd));
  return { texts, links, tail: rest.slice(bodyEnd) };
}

/** The HTML with each link going through its tracking address and the open pixel before `</body>` (or at the end). */
export function trackedHtml(linked: LinkedHtml, urls: TrackingUrls): string {
  let html = linked.texts[0] ?? "";
  for (const [index, target] of linked.links.entries()) {
    html += `"${urls.click(target)}"${linked.texts[index + 1] ?? ""}`;
  }
  return `${html}<img src="${urls.open}" width="1" height="1" alt="">${linked.tail}`;
}

/** The first href of a start tag: its value as written, and where the value (quotes included) is in the tag. */
function hrefOf(tag: string): { value: string; start: number; length: number } | undefined {
  // Past "<a", so that the tag's name is not read as an attribute.
  ATTRIBUTE.lastIndex = 2;
  for (let match = ATTRIBUTE.exec(tag); match; match = ATTRIBUTE.exec(tag)) {
    if (match[1]?.toLowerCase() !== "href") continue;
    const quoted = match[2] ?? match[3];
    const value = quoted ?? match[4];
    if (value === undefined) return undefined;
    const length = quoted !== undefined ? value.length + 2 : value.length;
    return { value, start: match.index + match[0].length - length, length };
  }
  return undefined;
}

/** The URL a browser would follow for an href, when it is an absolute http(s) one we can read. */
function absoluteHttpUrl(href: string): string | undefined {
  let unknownReference = false;
  const decoded = href.replace(REFERENCE, (reference, hex?: string, decimal?: string, name?: string) => {
    if (hex !== undefined || decimal !== undefined) {
      const code = hex !== undefined ? Number.parseInt(hex, 16) : Number(decimal);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : reference;
    }
    const named = NAMED[String(name).toLowerCase()];
    if (named === undefined) unknownReference = true;
    return named ?? reference;
  });
  if (unknownReference) return undefined;
  // Browsers drop the whitespace around a URL and the tabs and newlines inside it.
  const url = decoded.trim().replace(/[\t\n\r]/g, "");
  if (!/^https?:\/\//i.test(url)) return undefined;
  try {
    // As the browser would send it: an international domain in punycode, other characters percent-encoded.
    return new URL(url).href;
  } catch {
    return undefined;
  }
}
