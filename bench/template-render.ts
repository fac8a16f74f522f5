// How fast a template renders: the work done for every notification once its
// template version is cached. `npm run bench:render` (ITERATIONS=… for more).
import { DEFAULT_RENDER_LIMITS, renderContent, resolveLocale } from "../core/templates/index.ts";

const iterations = Number(process.env.ITERATIONS ?? 200_000);

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

function renderOnce(): void {
  const content = resolveLocale(locales, "ru-RU", "en");
  if (!content) throw new Error("no locale");
  renderContent(content, variables, DEFAULT_RENDER_LIMITS);
}

for (let i = 0; i < 10_000; i++) renderOnce();
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const samples = new Float64Array(iterations);
const started = performance.now();
for (let i = 0; i < iterations; i++) {
  const t0 = performance.now();
  renderOnce();
  samples[i] = performance.now() - t0;
}
const elapsedMs = performance.now() - started;
samples.sort();
const percentile = (p: number) =>
  (samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))] ?? 0) * 1000;
const heapAfter = process.memoryUsage().heapUsed;

console.log(`template render (locale resolution + Mustache, 3 fields, 2 list items), ${iterations} renders`);
console.log(`  throughput   ${Math.round(iterations / (elapsedMs / 1000))} renders/s on one core`);
console.log(
  `  latency      p50 ${percentile(50).toFixed(1)} µs, p99 ${percentile(99).toFixed(1)} µs, p99.9 ${percentile(99.9).toFixed(1)} µs`,
);
console.log(
  `  heap         ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB growth, RSS ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`,
);
