// Our renderer against mustache.js itself: for benign templates over JSON variables the
// output must be the one mustache.js gives, in the HTML body (escaped) and in the plain
// fields (not escaped), so templates written before the switch render as they did.
import Mustache from "mustache";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RENDER_LIMITS,
  InlineMustacheParser,
  renderContent,
  TemplateCompiler,
  type Variables,
} from "../../../../core/templates/index.ts";

const compiler = new TemplateCompiler({ parser: new InlineMustacheParser() });

const view: Variables = {
  name: "Иван",
  html: `<b class="x">Tom & Jerry's</b> a/b=c \`tick\``,
  zero: 0,
  one: 1,
  negative: -2.5,
  yes: true,
  no: false,
  empty: "",
  nothing: null,
  word: "abc",
  words: ["alpha", "beta", "gamma"],
  numbers: [1, 2, [3, [4, null]], null, 5],
  mixed: [{ title: "A" }, "s", 7, null, true],
  none: [],
  order: { id: "A-1", total: { amount: 1500, currency: "RUB" }, lines: [{ sku: "x", qty: 2 }] },
  items: [
    { title: "Супер Гонки", price: 1000, tags: ["new", "hot"], discount: { percent: 10 } },
    { title: "DLC <Трассы>", price: 500, tags: [], name: "inner name" },
  ],
  matrix: [
    [1, 2],
    [3, 4],
  ],
  user: { name: "Пётр", address: { city: "Москва" } },
  partial: { address: {} },
};

const cases: [description: string, template: string][] = [
  ["plain variables and missing ones", "Hi {{name}}, {{missing}}!"],
  ["HTML escaping of every special character", "{{html}}"],
  ["triple braces and ampersand unescaped", "{{{html}}} {{& html}}"],
  ["numbers, booleans, empty and null", "{{zero}}|{{one}}|{{negative}}|{{yes}}|{{no}}|{{empty}}|{{nothing}}"],
  ["lists printed as Array#join does", "{{numbers}} / {{words}} / {{{mixed}}} / {{none}}"],
  ["objects printed", "{{order}} {{{user}}}"],
  ["section over a list of strings with {{.}}", "{{#words}}<{{.}}>{{/words}}"],
  ["section over a list of objects", "{{#items}}{{title}}: {{price}};{{/items}}"],
  ["nested sections and lists of lists", "{{#matrix}}[{{#.}}{{.}}{{/.}}]{{/matrix}}"],
  ["section over an object pushes it", "{{#order}}{{id}} {{total.amount}} {{name}}{{/order}}"],
  ["section over true keeps the context", "{{#yes}}{{name}}{{/yes}}"],
  ["section over a string and a number", "{{#word}}[{{.}}]{{/word}}{{#one}}[{{.}}]{{/one}}"],
  [
    "falsy sections render nothing",
    "{{#zero}}z{{/zero}}{{#no}}n{{/no}}{{#empty}}e{{/empty}}{{#nothing}}0{{/nothing}}{{#none}}x{{/none}}{{#missing}}m{{/missing}}",
  ],
  [
    "inverted sections",
    "{{^zero}}Z{{/zero}}{{^none}}N{{/none}}{{^missing}}M{{/missing}}{{^words}}W{{/words}}{{^yes}}Y{{/yes}}",
  ],
  ["dotted names", "{{order.total.amount}} {{order.total.currency}} {{user.address.city}} {{order.nope.x}}"],
  ["dotted name on strings and lists", "{{word.length}} {{words.length}} {{words.1}} {{word.0}}"],
  ["context stack: inner names fall back to outer ones", "{{#items}}{{title}} by {{name}}{{/items}}"],
  [
    "dotted name resolved in an outer frame",
    "{{#partial}}{{#address}}[{{user.address.city}}]{{/address}}{{/partial}}",
  ],
  [
    "dotted section inside a list",
    "{{#items}}{{#discount}}-{{percent}}%{{/discount}}{{^discount}}full{{/discount}};{{/items}}",
  ],
  ["lists inside lists", "{{#items}}{{title}}:{{#tags}}{{.}},{{/tags}}{{^tags}}none{{/tags}};{{/items}}"],
  ["{{.}} at the top", "{{.}}"],
  ["comments and delimiter changes", "a{{! a comment }}b{{=<% %>=}}<% name %><%={{ }}=%>{{name}}"],
  [
    "standalone tags on their own lines",
    "list:\n{{#words}}\n- {{.}}\n{{/words}}\n{{^none}}\n  empty\n{{/none}}\nend",
  ],
  ["unicode text around tags", "Здравствуйте, {{user.name}}! — {{#items}}«{{title}}» {{/items}}🎉"],
  ["whitespace in tags", "{{ name }} {{# words }}{{ . }}{{/ words }}"],
];

describe("renderContent matches mustache.js for benign templates", () => {
  it.each(cases)("%s", async (_, template) => {
    const rendered = await renderContent(
      compiler,
      { languageCode: "en", subject: template, body: template, bodyHtml: template },
      view,
      DEFAULT_RENDER_LIMITS,
    );
    expect(rendered.bodyHtml).toBe(Mustache.render(template, view));
    const plain = Mustache.render(template, view, {}, { escape: (value: unknown) => String(value) });
    expect(rendered.subject).toBe(plain);
    expect(rendered.body).toBe(plain);
  });

  it("escapes each ASCII character, and text around it, as mustache.js does", async () => {
    const ascii = Array.from({ length: 128 }, (_, code) => String.fromCharCode(code)).join("");
    const text = `${ascii}Ünïcödé ${ascii.split("").reverse().join("")}😀`;
    const rendered = await renderContent(
      compiler,
      { languageCode: "en", subject: "", body: "", bodyHtml: "{{text}}" },
      { text },
      DEFAULT_RENDER_LIMITS,
    );
    expect(rendered.bodyHtml).toBe(Mustache.escape(text));
  });
});

describe("renderContent reaches only the variables' own values", () => {
  const probes = [
    "{{constructor}}",
    "{{toString}}",
    "{{hasOwnProperty}}",
    "{{__proto__}}",
    "{{order.constructor.name}}",
    "{{words.constructor.name}}",
    "{{#constructor}}reached{{/constructor}}",
    "{{#items}}{{valueOf}}{{/items}}",
  ];

  it.each(probes)("%s renders nothing where mustache.js reaches the prototype", async (template) => {
    const rendered = await renderContent(
      compiler,
      { languageCode: "en", subject: "", body: template, bodyHtml: template },
      view,
      DEFAULT_RENDER_LIMITS,
    );
    expect(Mustache.render(template, view)).not.toBe("");
    expect(rendered.bodyHtml).toBe("");
    expect(rendered.body).toBe("");
  });

  it("prints an object whose own toString is data, where mustache.js throws", async () => {
    const variables = { card: { toString: "not a function", valueOf: 1 } };
    expect(() => Mustache.render("{{card}}", variables)).toThrow(TypeError);
    const rendered = await renderContent(
      compiler,
      { languageCode: "en", subject: "", body: "{{card}} {{card.toString}}", bodyHtml: "" },
      variables,
      DEFAULT_RENDER_LIMITS,
    );
    expect(rendered.body).toBe("[object Object] not a function");
  });
});
