import type { TagName, TemplateNode } from "./compiled-template.ts";
import { RENDER_LIMIT_SETTINGS, type RenderLimits, renderLimitExceeded } from "./render-limits.ts";

/** The steps a render has left, shared by its fields: the limit holds for the whole render. */
export interface StepBudget {
  left: number;
}

/**
 * Renders nodes over JSON variables with the semantics of mustache.js 4 (its context stack,
 * dotted names, sections over lists, objects and truthy values), except that only a
 * value's own properties are looked up: `{{constructor}}` finds nothing, and a function
 * is never called. Throws TEMPLATE_RENDER_LIMIT the moment a limit would be passed, so a
 * hostile loop stops there rather than at its end.
 */
export function renderNodes(
  nodes: TemplateNode[],
  variables: unknown,
  field: string,
  escapesHtml: boolean,
  limits: RenderLimits,
  steps: StepBudget,
): string {
  const output = new FieldOutput(field, escapesHtml, limits, steps.left);
  output.render(nodes, { view: variables, parent: undefined });
  steps.left = output.stepsLeft;
  return output.text;
}

/** The values a name is looked up in, innermost first: one frame per section entered. */
interface Frame {
  view: unknown;
  parent: Frame | undefined;
}

// The counters are fields decremented in place, not calls to a budget object: a step is
// a few nanoseconds of work, and the first renders of a process run in V8's interpreter.
class FieldOutput {
  text = "";
  private bytes = 0;

  constructor(
    private readonly field: string,
    private readonly escapesHtml: boolean,
    private readonly limits: RenderLimits,
    public stepsLeft: number,
  ) {}

  render(nodes: TemplateNode[], frame: Frame): void {
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i] as TemplateNode;
      if (--this.stepsLeft < 0) this.outOfSteps();
      if (node.kind === "text") this.write(node.text, node.bytes);
      else if (node.kind === "value") this.writeValue(this.lookup(node.name, frame), node.escaped);
      else this.renderSection(node.children, this.lookup(node.name, frame), node.inverted, frame);
    }
  }

  private renderSection(children: TemplateNode[], value: unknown, inverted: boolean, frame: Frame): void {
    if (inverted) {
      if (!value || (Array.isArray(value) && value.length === 0)) this.render(children, frame);
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (--this.stepsLeft < 0) this.outOfSteps();
        this.render(children, { view: value[i], parent: frame });
      }
    } else if (typeof value === "object" || typeof value === "string" || typeof value === "number") {
      if (value) this.render(children, { view: value, parent: frame });
    } else if (value) {
      this.render(children, frame);
    }
  }

  // As mustache.js: `.` is the current value; a name is searched from the innermost frame
  // out, and a dotted name is taken from the first frame where its whole path resolves.
  private lookup(name: TagName, frame: Frame): unknown {
    if (name.raw === ".") return frame.view;
    const path = name.path;
    for (let current: Frame | undefined = frame; current; current = current.parent) {
      if (--this.stepsLeft < 0) this.outOfSteps();
      const view = current.view;
      if (path === undefined) {
        if (typeof view === "object" && view !== null && Object.hasOwn(view, name.raw)) {
          return jsonValue((view as Record<string, unknown>)[name.raw]);
        }
        continue;
      }
      let value = view;
      let index = 0;
      for (; index < path.length && value != null; index++) {
        const part = path[index] as string;
        if (!Object.hasOwn(value, part)) break;
        value = (value as Record<string, unknown>)[part];
      }
      // A long path walked in every frame of a loop is work too.
      this.stepsLeft -= index;
      if (this.stepsLeft < 0) this.outOfSteps();
      if (index === path.length) return jsonValue(value);
    }
    return undefined;
  }

  // As mustache.js: nothing for null, and a list as Array#join writes it (nested lists
  // flattened with commas, objects as "[object Object]"), escaped as one text would be.
  private writeValue(value: unknown, escaped: boolean): void {
    if (value == null) return;
    const asHtml = escaped && this.escapesHtml;
    if (!Array.isArray(value)) {
      this.writeText(scalarText(value), asHtml);
      return;
    }
    // A stack of its own: a list's nesting comes from the variables, not from a checked template.
    const pending: { list: unknown[]; next: number }[] = [{ list: value, next: 0 }];
    while (pending.length > 0) {
      const top = pending[pending.length - 1] as { list: unknown[]; next: number };
      if (top.next === top.list.length) {
        pending.pop();
        continue;
      }
      const item = top.list[top.next++];
      if (--this.stepsLeft < 0) this.outOfSteps();
      if (top.next > 1) this.write(",", 1);
      if (Array.isArray(item)) pending.push({ list: item, next: 0 });
      else if (item != null) this.writeText(scalarText(item), asHtml);
    }
  }

  // UTF-8 never takes fewer bytes than UTF-16 code units, nor escaped text than raw text:
  // a value too long for what is left is refused before any work on it.
  private writeText(text: string, asHtml: boolean): void {
    if (this.bytes + text.length > this.limits.maxOutputBytes) this.outOfOutput();
    this.write(asHtml && NEEDS_ESCAPE.test(text) ? this.escapeHtml(text) : text);
  }

  // mustache.js's escaping, character for character. Each entity is a step: text full of
  // them costs far more than its length to write, and the budget must see that cost.
  private escapeHtml(text: string): string {
    let escaped = "";
    let plainFrom = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const entity = code < HTML_ENTITIES.length ? HTML_ENTITIES[code] : undefined;
      if (entity === undefined) continue;
      if (--this.stepsLeft < 0) this.outOfSteps();
      escaped += text.slice(plainFrom, i) + entity;
      plainFrom = i + 1;
    }
    return escaped + text.slice(plainFrom);
  }

  // A piece written is a step of its own: many tiny pieces cost far more than their bytes.
  private write(piece: string, bytes = Buffer.byteLength(piece)): void {
    if (--this.stepsLeft < 0) this.outOfSteps();
    this.bytes += bytes;
    if (this.bytes > this.limits.maxOutputBytes) this.outOfOutput();
    this.text += piece;
  }

  private outOfSteps(): never {
    throw renderLimitExceeded(
      `rendering ${this.field} with these variables would take more than ${this.limits.maxSteps} steps (${RENDER_LIMIT_SETTINGS.maxSteps})`,
    );
  }

  private outOfOutput(): never {
    throw renderLimitExceeded(
      `the rendered ${this.field} would exceed ${this.limits.maxOutputBytes} bytes (${RENDER_LIMIT_SETTINGS.maxOutputBytes})`,
    );
  }
}

const ENTITY_OF: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "/": "&#x2F;",
  "`": "&#x60;",
  "=": "&#x3D;",
};
const NEEDS_ESCAPE = /[&<>"'`=/]/;
/** The entity of each ASCII character code (every escaped character is ASCII); undefined where none. */
const HTML_ENTITIES: (string | undefined)[] = Array.from(
  { length: 0x80 },
  (_, code) => ENTITY_OF[String.fromCharCode(code)],
);

function scalarText(value: unknown): string {
  return typeof value === "object" ? "[object Object]" : String(value);
}

// Variables are JSON; anything else (a function, above all) is not theirs to render.
function jsonValue(value: unknown): unknown {
  return typeof value === "function" || typeof value === "symbol" ? undefined : value;
}
