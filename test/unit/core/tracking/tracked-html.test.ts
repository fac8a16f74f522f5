import { describe, expect, it } from "vitest";
import { linkedHtml, trackedHtml } from "../../../../core/tracking/index.ts";

const urls = {
  click: (target: string) => `https://t.example/c/${encodeURIComponent(target)}`,
  open: "https://t.example/o/1",
};
const track = (html: string, tracked: (url: string) => boolean = () => true) =>
  trackedHtml(linkedHtml(html, tracked), urls);
const PIXEL = '<img src="https://t.example/o/1" width="1" height="1" alt="">';

describe("an email's HTML with tracking", () => {
  it("sends every http(s) link through its redirect and adds the pixel before </body>", () => {
    const html =
      "<html><body><p><a href=\"https://shop.example/a?x=1&amp;y=2\">A</a> <A class=b HREF='http://shop.example/b'>B</A></p></body></html>";
    expect(track(html)).toBe(
      `<html><body><p><a href="${urls.click("https://shop.example/a?x=1&y=2")}">A</a> <A class=b HREF="${urls.click("http://shop.example/b")}">B</A></p>${PIXEL}</body></html>`,
    );
  });

  it("reads links as a browser does: character references, unquoted values, whitespace around", () => {
    // Mustache escapes "/" and "=" in {{url}}.
    const html =
      '<a href=" https:&#x2F;&#x2F;myplatform.com&#x2F;orders?id&#x3D;7 ">x</a><a href=https://b.example/p>y</a>';
    expect(linkedHtml(html, () => true).links).toEqual([
      "https://myplatform.com/orders?id=7",
      "https://b.example/p",
    ]);
  });

  it("leaves mailto:, tel:, anchors, relative links and what it cannot read as they are", () => {
    const html = [
      '<a href="mailto:help@shop.example">m</a>',
      '<a href="tel:+79991234567">t</a>',
      '<a href="#top">a</a>',
      '<a href="/relative">r</a>',
      '<a href="javascript:alert(1)">j</a>',
      '<a name="no-href">n</a>',
      '<a href="https://x.example/&unknown;">u</a>',
      '<abbr title="https://not.a.link/">abbr</abbr>',
      '<a title="a > b" data-href="https://data.example/">no href</a>',
    ].join("");
    expect(track(html)).toBe(`${html}${PIXEL}`);
  });

  it("leaves the links the caller keeps out (the unsubscribe link) and takes the first href of a tag", () => {
    const unsubscribe = "https://notify.example/api/v1/notifications/unsubscribe/abc.def";
    const html = `<a href="${unsubscribe}">stop</a><a href="https://one.example/" href="https://two.example/">x</a>`;
    expect(track(html, (url) => !url.startsWith("https://notify.example/"))).toBe(
      `<a href="${unsubscribe}">stop</a><a href="${urls.click("https://one.example/")}" href="https://two.example/">x</a>${PIXEL}`,
    );
  });

  it("puts the pixel at the end when there is no </body>", () => {
    expect(track("<p>hi</p>")).toBe(`<p>hi</p>${PIXEL}`);
    expect(track("<BODY>a</BODY >\n</html>")).toBe(`<BODY>a${PIXEL}</BODY >\n</html>`);
  });

  it("gives the target as a browser would request it: international domains in punycode", () => {
    expect(linkedHtml('<a href="https://пример.рф/путь">x</a>', () => true).links).toEqual([
      "https://xn--e1afmkfd.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C",
    ]);
  });
});
