// The campaign report page: asks for a token (kept in this tab's sessionStorage, never in a
// URL), reads GET /api/v1/notifications/campaigns/{id}/report and draws it, the charts in
// SVG. Everything shown goes through textContent or SVG attributes: nothing read is markup.

const API = "/api/v1/notifications/campaigns";
const TOKEN_KEY = "campaign-report-token";
const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#2f6fde", "#e0762b", "#2e9d5b", "#a347c2", "#c9363e", "#16a2b8", "#8a6d1d", "#5b6575"];

const campaignId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] ?? "");
const $ = (id) => document.getElementById(id);

const count = (value) => Number(value ?? 0);
const percent = (value) => `${(Number(value ?? 0) * 100).toFixed(1)}%`;
const variantName = (key) => (key === "" ? "—" : key);

function element(tag, attributes = {}, text) {
  const made = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, String(value));
  if (text !== undefined) made.textContent = text;
  return made;
}

function setState(text) {
  $("state").textContent = text;
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = false;
}

async function load() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return signedOut();
  setState("Загрузка…");
  const response = await fetch(`${API}/${encodeURIComponent(campaignId)}/report`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const problem = body.errors?.[0];
    signedOut();
    showError(`Сервис отказал (${response.status}): ${problem?.detail ?? problem?.title ?? "без причины"}`);
    return;
  }
  $("sign-in").hidden = true;
  $("report").hidden = false;
  render(body);
  setState(`Обновлено ${new Date().toLocaleTimeString("ru-RU")}`);
}

function signedOut() {
  $("sign-in").hidden = false;
  $("report").hidden = true;
  setState("Нет входа");
}

function render(report) {
  const totals = report.totals ?? {};
  $("span").textContent = `${report.start_time ?? ""} — ${report.end_time ?? ""}, интервал: ${String(
    report.bucket ?? "",
  )
    .replace("TIME_BUCKET_", "")
    .toLowerCase()}`;
  const figures = [
    ["audience", "Аудитория", totals.audience === undefined ? "—" : count(totals.audience)],
    ["sent", "Отправлено", count(totals.sent)],
    ["delivered", "Доставлено", count(totals.delivered)],
    ["failed", "Ошибки", count(totals.failed)],
    ["suppressed", "Подавлено", count(totals.suppressed)],
    ["expired", "Истекло", count(totals.expired)],
    ["unique_opens", "Открыли (люди)", count(totals.unique_opens)],
    ["unique_clicks", "Кликнули (люди)", count(totals.unique_clicks)],
    ["unsubscribes", "Отписались", count(totals.unsubscribes)],
    ["delivery_rate", "Доставка", percent(totals.delivery_rate)],
    ["open_rate", "Открытия", percent(totals.open_rate)],
    ["click_rate", "Клики", percent(totals.click_rate)],
  ];
  $("totals").replaceChildren(
    ...figures.map(([key, label, value]) => {
      const item = document.createElement("div");
      const term = document.createElement("dt");
      const detail = document.createElement("dd");
      term.textContent = label;
      detail.textContent = String(value);
      detail.dataset.figure = key;
      item.append(term, detail);
      return item;
    }),
  );
  drawFunnel(totals);
  const variants = (report.variants ?? []).map((row) => row.variant);
  drawTimeline(report.series ?? [], variants);
  $("variants").tBodies[0].replaceChildren(
    ...(report.variants ?? []).map((row) => {
      const line = document.createElement("tr");
      line.dataset.variant = row.variant;
      const f = row.figures ?? {};
      const cells = [
        variantName(row.variant),
        count(f.sent),
        count(f.delivered),
        count(f.failed),
        count(f.suppressed),
        count(f.expired),
        count(f.unique_opens),
        count(f.unique_clicks),
        count(f.unsubscribes),
        percent(f.delivery_rate),
        percent(f.open_rate),
        percent(f.click_rate),
      ];
      for (const value of cells) {
        const cell = document.createElement("td");
        cell.textContent = String(value);
        line.append(cell);
      }
      return line;
    }),
  );
}

/** Sent → delivered → opened → clicked as bars, each with its count and its share of sent. */
function drawFunnel(totals) {
  const svg = $("funnel");
  const width = svg.clientWidth || 800;
  const stages = [
    ["Отправлено", count(totals.sent)],
    ["Доставлено", count(totals.delivered)],
    ["Открыли", count(totals.unique_opens)],
    ["Кликнули", count(totals.unique_clicks)],
  ];
  const top = Math.max(1, stages[0][1]);
  const left = 110;
  const room = width - left - 150;
  svg.setAttribute("viewBox", `0 0 ${width} 220`);
  svg.replaceChildren(
    ...stages.flatMap(([label, value], i) => {
      const y = 20 + i * 48;
      const bar = Math.max(2, (value / top) * room);
      return [
        element("text", { x: 8, y: y + 22 }, label),
        element("rect", {
          x: left,
          y,
          width: bar,
          height: 34,
          rx: 3,
          fill: COLORS[0],
          opacity: 1 - i * 0.18,
          "data-stage": i,
        }),
        element(
          "text",
          { x: left + bar + 8, y: y + 22, "data-funnel": i },
          `${value} (${((value / top) * 100).toFixed(1)}%)`,
        ),
      ];
    }),
  );
}

/** Messages sent (solid) and delivered (dashed) per bucket, one colour per variant. */
function drawTimeline(series, variants) {
  const svg = $("timeline");
  const width = svg.clientWidth || 800;
  const height = 220;
  const pad = { left: 48, right: 16, top: 12, bottom: 28 };
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const times = [...new Set(series.map((point) => point.bucket_start_time))].sort();
  const max = Math.max(1, ...series.flatMap((point) => [count(point.sent), count(point.delivered)]));
  // One bucket is drawn across the chart rather than as a lone dot.
  if (times.length === 1) times.push(times[0]);
  const x = (i) => pad.left + (i / Math.max(1, times.length - 1)) * (width - pad.left - pad.right);
  const y = (value) => height - pad.bottom - (value / max) * (height - pad.top - pad.bottom);
  const drawn = [
    element("line", {
      class: "axis",
      x1: pad.left,
      y1: height - pad.bottom,
      x2: width - pad.right,
      y2: height - pad.bottom,
    }),
    element("line", { class: "axis", x1: pad.left, y1: pad.top, x2: pad.left, y2: height - pad.bottom }),
    element("text", { x: 4, y: pad.top + 8 }, String(max)),
    element("text", { x: 4, y: height - pad.bottom }, "0"),
  ];
  if (times.length > 0) {
    drawn.push(element("text", { x: pad.left, y: height - 8 }, shortTime(times[0])));
    if (times.length > 1 && times.at(-1) !== times[0]) {
      drawn.push(element("text", { x: width - pad.right - 90, y: height - 8 }, shortTime(times.at(-1))));
    }
  }
  variants.forEach((variant, v) => {
    const color = COLORS[v % COLORS.length];
    const ofVariant = series.filter((point) => point.variant === variant);
    for (const [stage, dash] of [
      ["sent", ""],
      ["delivered", "6 4"],
    ]) {
      const byTime = new Map(ofVariant.map((point) => [point.bucket_start_time, count(point[stage])]));
      const points = times.map((time, i) => [x(i), y(byTime.get(time) ?? 0)]);
      drawn.push(
        element("polyline", {
          points: points.map((p) => p.join(",")).join(" "),
          fill: "none",
          stroke: color,
          "stroke-width": 2,
          "stroke-dasharray": dash || "none",
          "data-variant": variant,
          "data-stage": stage,
        }),
      );
      for (const [px, py] of points) drawn.push(element("circle", { cx: px, cy: py, r: 3, fill: color }));
    }
  });
  svg.replaceChildren(...drawn);
  $("legend").replaceChildren(
    ...variants.map((variant, v) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.style.background = COLORS[v % COLORS.length];
      item.append(swatch, `Вариант ${variantName(variant)}: отправлено — сплошная, доставлено — пунктир`);
      return item;
    }),
  );
}

function shortTime(iso) {
  return new Date(iso).toLocaleString("ru-RU", { timeZone: "UTC", dateStyle: "short", timeStyle: "short" });
}

$("campaign-id").textContent = campaignId;
$("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  $("error").hidden = true;
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  load().catch((error) => showError(String(error)));
});
$("refresh").addEventListener("click", () => load().catch((error) => showError(String(error))));
$("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  signedOut();
});
load().catch((error) => showError(String(error)));
