// How fast a template renders: the work done for every notification once its template
// version is cached, how long the worst hostile render takes before its budget stops it,
// and what parsing a long template costs the event loop, inline and on the parser thread.
// `npm run bench:render` (ITERATIONS=… for more).
import { DomainError, ErrorCatalog } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { compileAtOnce } from "../core/templates/compiled-template.ts";
import {
  DEFAULT_RENDER_LIMITS,
  InlineMustacheParser,
  type LocaleContent,
  parseMustache,
  renderContent,
  resolveLocale,
  TemplateCompiler,
  type Variables,
} from "../core/templates/index.ts";
import { ThreadParser } from "../server/mustache/thread-parser.ts";

const iterations = Number(process.env.ITERATIONS ?? 200_000);
const limits = DEFAULT_RENDER_LIMITS;
const compiler = new TemplateCompiler({ parser: new InlineMustacheParser() });

const locales = [
  {
    languageCode: "ru",
    subject: "Заказ {{orderId}} подтверждён",
    body: "Здравствуйте, {{userName}}! Сумма: {{totalAmount}}. {{#items}}- {{title}}: {{price}}\n{{/items}}Подробнее: {{orderDetailsUrl}}",
    bodyHtml:
      '<h1>Здравствуйте, {{userName}}!</h1><p>Сумма: {{totalAmount}}</p>{{{itemsListHtml}}}<ul>{{#items}}<li>{{title}} — {{price}}</li>{{/items}}</ul><a href="{{orderDetailsUrl}}">Заказ</a>',
  },
  {
    languageCode: "en",
    subject: "Order {{orderId}}",
    body: "Hello {{userName}}",
    bodyHtml: "<p>Hello {{userName}}</p>",
  },
];
const variables = {
  orderId: "ORD-2024-03-18-001",
  userName: "Иван Петров",
  totalAmount: "1500.00 RUB",
  itemsListHtml: "<ul><li>Игра 'Супер Гонки' - 1000 RUB</li><li>DLC 'Новые Трассы' - 500 RUB</li></ul>",
  items: [
    { title: "Супер Гонки", price: "1000 RUB" },
    { title: "Новые Трассы", price: "500 RUB" },
  ],
  orderDetailsUrl: "https://myplatform.com/orders/ORD-2024-03-18-001",
};

const nested = (depth: number, inner: string) => `${"{{#a}}".repeat(depth)}${inner}${"{{/a}}".repeat(depth)}`;
const list = (length: number, item: (index: number) => unknown) => Array.from({ length }, (_, i) => item(i));

/** Each one would run for seconds or build gigabytes without the budget; each must be stopped by it. */
const hostile: { name: string; bodyHtml: string; variables: Variables }[] = [
  { name: "4 nested sections × 140 items", bodyHtml: nested(4, ""), variables: { a: list(140, (i) => i) } },
  {
    name: "5 nested sections × 16 items, 40-byte items",
    bodyHtml: nested(5, "<p>{{.}}</p>"),
    variables: { a: list(16, (i) => `item ${i} of the list, forty bytes long..`) },
  },
  {
    name: "5 nested sections × 24 items, 5 KiB raw value",
    bodyHtml: nested(5, "{{{big}}}"),
    variables: { a: list(24, (i) => i), big: "x".repeat(5 * 1024) },
  },
  {
    name: "3 nested sections × 140 one-byte values",
    bodyHtml: nested(3, "{{.}}"),
    variables: { a: list(140, () => "x") },
  },
  {
    name: "3 nested sections × 140, value all entities",
    bodyHtml: nested(3, "{{big}}"),
    variables: { a: list(140, (i) => i), big: "<&>".repeat(1000) },
  },
  {
    name: "list of 140 × 140 printed in 2 sections",
    bodyHtml: nested(2, "{{b}}"),
    variables: { a: list(140, (i) => i), b: list(140, (i) => list(140, () => i)) },
  },
  {
    name: `missing name searched ${limits.maxSectionDepth} frames deep`,
    bodyHtml: nested(limits.maxSectionDepth, "{{m}}{{m}}{{m}}{{m}}"),
    variables: { a: list(140, (i) => i) },
  },
  {
    name: "dotted path 60 deep in every frame",
    bodyHtml: nested(3, `{{${Array(60).fill("a").join(".")}}}`),
    variables: { a: list(140, (i) => i) },
  },
];

/** Wall time of one hostile render, in ms. */
async function renderHostile(probe: (typeof hostile)[number]): Promise<number> {
  const content: LocaleContent = { languageCode: "en", subject: "", body: "", bodyHtml: probe.bodyHtml };
  const started = performance.now();
  try {
    await renderContent(compiler, content, probe.variables, limits);
  } catch (error) {
    if (!(error instanceof DomainError) || error.entry !== ErrorCatalog.templateRenderLimit) throw error;
    return performance.now() - started;
  }
  throw new Error(`the budget did not stop "${probe.name}"`);
}

// The first renders of a process run in V8's interpreter: measure them before anything warms up.
const coldMs: number[] = [];
for (const probe of hostile) coldMs.push(await renderHostile(probe));

async function renderOnce(): Promise<void> {
  const content = resolveLocale(locales, "ru-RU", "en");
  if (!content) throw new Error("no locale");
  await renderContent(compiler, content, variables, limits);
}

for (let i = 0; i < 10_000; i++) await renderOnce();
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const samples = new Float64Array(iterations);
const started = performance.now();
for (let i = 0; i < iterations; i++) {
  const t0 = performance.now();
  await renderOnce();
  samples[i] = performance.now() - t0;
}
const elapsedMs = performance.now() - started;
samples.sort();
const percentile = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
// What the renders keep, not the garbage they leave for the next collection.
globalThis.gc?.();
const heapAfter = process.memoryUsage().heapUsed;

console.log(`template render (locale resolution + Mustache, 3 fields, 2 list items), ${iterations} renders`);
console.log(`  throughput   ${Math.round(iterations / (elapsedMs / 1000))} renders/s on one core`);
console.log(
  `  latency      p50 ${(percentile(samples, 50) * 1000).toFixed(1)} µs, p99 ${(percentile(samples, 99) * 1000).toFixed(1)} µs, p99.9 ${(percentile(samples, 99.9) * 1000).toFixed(1)} µs`,
);
console.log(
  `  heap         ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB retained, RSS ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`,
);

const runs = 100;
console.log(
  `hostile renders stopped by the budget (depth ${limits.maxSectionDepth}, ${limits.maxOutputBytes} bytes, ${limits.maxSteps} steps), ${runs} runs each`,
);
const ms = (value: number) => `${value.toFixed(2)} ms`;
let worstP90 = 0;
for (const [index, probe] of hostile.entries()) {
  // Thread CPU time is counted in scheduler ticks (4 ms here): only its mean over the runs means anything.
  const cpuBefore = process.threadCpuUsage();
  const wall = new Float64Array(runs);
  for (let run = 0; run < runs; run++) wall[run] = await renderHostile(probe);
  wall.sort();
  const cpu = process.threadCpuUsage(cpuBefore);
  worstP90 = Math.max(worstP90, percentile(wall, 90));
  console.log(
    `  ${probe.name.padEnd(46)} cold ${ms(coldMs[index] ?? 0)}; warm p50 ${ms(percentile(wall, 50))}, p90 ${ms(percentile(wall, 90))}, max ${ms(wall[runs - 1] ?? 0)}, CPU mean ${ms((cpu.user + cpu.system) / 1000 / runs)}`,
  );
}
console.log(
  `  worst: cold ${ms(Math.max(...coldMs))}, warm p90 ${ms(worstP90)} (wall time, on a shared machine)`,
);

/** `tags` tags spread evenly over about `chars` characters of HTML. */
function bigTemplate(chars: number, tags: number): string {
  const gap = Math.floor(chars / tags) - "{{x}}".length;
  const filler = "<p>text</p>".repeat(Math.ceil(gap / 11)).slice(0, gap);
  return `${filler}{{x}}`.repeat(tags);
}

/** The longest stretch the event loop could not turn while `work` ran, by a chain of setImmediate. */
async function longestBlock<T>(work: () => Promise<T>): Promise<{ wallMs: number; blockMs: number }> {
  let last = performance.now();
  let longest = 0;
  let running = true;
  const probe = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(probe);
  };
  setImmediate(probe);
  const started = performance.now();
  await work();
  const wallMs = performance.now() - started;
  running = false;
  return { wallMs, blockMs: Math.max(longest, performance.now() - last) };
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const threadParser = new ThreadParser({ logger: silent });
// The thread's start (loading mustache.js) is paid once per process: not part of a parse.
await new TemplateCompiler({ parser: threadParser, inlineMaxChars: 0 }).compile("{{warm}}");
const parseRuns = 7;
// What the probe reads when nothing runs: on a shared machine the thread is descheduled too,
// so the probe's figure is an upper bound. The main thread's CPU time during a parse on the
// thread (measured without the probe) is not disturbed by that: it bounds the blocking from
// above; only its mean means anything, as it is counted in scheduler ticks.
const idle: number[] = [];
for (let run = 0; run < parseRuns; run++) {
  idle.push((await longestBlock(() => new Promise((resolve) => setTimeout(resolve, 100)))).blockMs);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
console.log(
  `parsing a new template (mustache.js, then our nodes), inline vs on the parser thread; median and max of ${parseRuns} runs, each a text not parsed before`,
);
for (const [name, chars, tags] of [
  ["19 KB, 200 tags", 19_000, 200],
  ["58 KB, 600 tags", 58_000, 600],
  ["500 KB, 8,000 tags", 499_000, 8_000],
  ["500 KB, 50,000 tags", 499_000, 50_000],
] as const) {
  const base = bigTemplate(chars, tags);
  const inline: number[] = [];
  const threadWall: number[] = [];
  const threadBlock: number[] = [];
  let threadCpuMs = 0;
  for (let run = 0; run < parseRuns; run++) {
    const text = `${run}${base}`;
    // Each measure starts with an empty young generation: the garbage of the one before
    // (an inline parse leaves a token per character) is not collected inside the next.
    globalThis.gc?.();
    const started = performance.now();
    const outcome = parseMustache(text);
    if ("parsed" in outcome) compileAtOnce(outcome.parsed);
    inline.push(performance.now() - started);
    // A new compiler each run: nothing cached.
    const compiler = new TemplateCompiler({ parser: threadParser });
    globalThis.gc?.();
    const { wallMs, blockMs } = await longestBlock(() => compiler.compile(`${text} `));
    // Again without the probe, which keeps the thread busy by itself.
    globalThis.gc?.();
    const cpuBefore = process.threadCpuUsage();
    await compiler.compile(`${text}  `);
    const cpu = process.threadCpuUsage(cpuBefore);
    threadCpuMs += (cpu.user + cpu.system) / 1000;
    threadWall.push(wallMs);
    threadBlock.push(blockMs);
  }
  const figure = (values: number[]) => `${ms(median(values)).padStart(9)} (max ${ms(Math.max(...values))})`;
  console.log(
    `  ${name.padEnd(20)} inline: blocks ${figure(inline)}; thread: takes ${figure(threadWall)}, blocks the loop at most ${figure(threadBlock)}, main-thread CPU mean ${ms(threadCpuMs / parseRuns)}`,
  );
}
console.log(
  `  the probe with nothing to do, for comparison: the loop stalls at most ${ms(median(idle))} (max ${ms(Math.max(...idle))}) per 100 ms`,
);
await threadParser.close();
