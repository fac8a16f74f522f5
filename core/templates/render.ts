import { DomainError, ErrorCatalog, type ErrorProblem } from "../errors.ts";
import type { CompiledTemplate } from "./compiled-template.ts";
import { RENDER_LIMIT_SETTINGS, type RenderLimits, renderLimitExceeded } from "./render-limits.ts";
import type { LocaleContent, Variables } from "./template.ts";
import { MustacheSyntaxError, type TemplateCompiler } from "./template-compiler.ts";
import { renderNodes, type StepBudget } from "./template-renderer.ts";

const FIELDS = [
  ["subject", "subject"],
  ["body", "body"],
  ["bodyHtml", "body_html"],
] as const;

/**
 * Problems of the Mustache in one locale's content: unparsable text, partials (we have
 * no partials to include, so `{{> x}}` would silently render nothing) and sections nested
 * deeper than the limit. `pointer` is where the locale sits in the request, e.g. "/locales/0".
 */
export async function mustacheProblems(
  compiler: TemplateCompiler,
  content: LocaleContent,
  pointer: string,
  limits: Pick<RenderLimits, "maxSectionDepth">,
): Promise<ErrorProblem[]> {
  const problems: ErrorProblem[] = [];
  for (const [field, protoName] of FIELDS) {
    const source = { pointer: `${pointer}/${protoName}` };
    let compiled: CompiledTemplate;
    try {
      compiled = await compiler.compile(content[field]);
    } catch (error) {
      // Anything else (the parser thread overloaded or gone) is not the template's fault.
      if (!(error instanceof MustacheSyntaxError)) throw error;
      problems.push({
        detail: `${protoName} is not a valid Mustache template: ${(error as Error).message}`,
        source,
      });
      continue;
    }
    if (compiled.hasPartial) {
      problems.push({
        detail: `${protoName} uses a partial ({{> name}}), which templates cannot include`,
        source,
      });
    }
    if (compiled.sectionDepth > limits.maxSectionDepth) {
      problems.push({ detail: tooDeep(protoName, compiled.sectionDepth, limits.maxSectionDepth), source });
    }
  }
  return problems;
}

export async function assertValidMustache(
  compiler: TemplateCompiler,
  locales: LocaleContent[],
  limits: Pick<RenderLimits, "maxSectionDepth">,
  pointer = "/locales",
): Promise<void> {
  const problems: ErrorProblem[] = [];
  for (const [index, content] of locales.entries()) {
    problems.push(...(await mustacheProblems(compiler, content, `${pointer}/${index}`, limits)));
  }
  const [first, ...more] = problems;
  if (first) throw new DomainError(ErrorCatalog.validation, first.detail, first.source, more);
}

export interface RenderedContent {
  subject: string;
  body: string;
  bodyHtml: string;
  /** Top-level variables the content uses that `variables` lacks (they render empty). */
  missingVariables: string[];
}

/**
 * Renders one locale's content within `limits`, or throws TEMPLATE_RENDER_LIMIT. The HTML
 * body escapes `{{var}}` (use `{{{var}}}` for trusted HTML); subject and body are plain
 * text, so escaping them would turn "&" into "&amp;" in an SMS or a push title.
 */
export async function renderContent(
  compiler: TemplateCompiler,
  content: LocaleContent,
  variables: Variables,
  limits: RenderLimits,
): Promise<RenderedContent> {
  // All three parsed before any renders: the render itself runs in one go, within its budget.
  const compiledFields: CompiledTemplate[] = [];
  for (const [field] of FIELDS) compiledFields.push(await compiler.compile(content[field]));
  const steps: StepBudget = { left: limits.maxSteps };
  const missing = new Set<string>();
  const [subject, body, bodyHtml] = FIELDS.map(([field, protoName], index) => {
    const compiled = compiledFields[index] as CompiledTemplate;
    // A version written under a higher limit than today's is refused here, before any recursion.
    if (compiled.sectionDepth > limits.maxSectionDepth) {
      throw renderLimitExceeded(tooDeep(protoName, compiled.sectionDepth, limits.maxSectionDepth));
    }
    for (const name of compiled.topLevelNames) {
      if (lookup(variables, name) === undefined) missing.add(name);
    }
    return renderNodes(compiled.nodes, variables, protoName, field === "bodyHtml", limits, steps);
  });
  return {
    subject: subject ?? "",
    body: body ?? "",
    bodyHtml: bodyHtml ?? "",
    missingVariables: [...missing].sort(),
  };
}

function tooDeep(protoName: string, depth: number, max: number): string {
  return `${protoName} nests sections ${depth} deep, more than ${max} (${RENDER_LIMIT_SETTINGS.maxSectionDepth})`;
}

function lookup(view: Variables, name: string): unknown {
  if (name === ".") return view;
  let current: unknown = view;
  for (const part of name.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
