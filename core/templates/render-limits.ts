import { DomainError, ErrorCatalog } from "../errors.ts";

/**
 * What one render may cost. A producer's variables drive a template's loops, so without
 * these a request of a few hundred bytes can ask for gigabytes of text or minutes of work
 * on the one thread that serves every other request.
 */
export interface RenderLimits {
  /** Sections (`{{#x}}`, `{{^x}}`) inside one another; checked when a version is written, and at render. */
  maxSectionDepth: number;
  /** UTF-8 bytes of one rendered field: subject, body or body_html. */
  maxOutputBytes: number;
  /** Work of one render, all fields together: tokens visited, section passes, context frames searched, list items printed. */
  maxSteps: number;
}

/** The setting of each limit (server/config.ts reads them), named in errors so an operator knows what to raise. */
export const RENDER_LIMIT_SETTINGS = {
  maxSectionDepth: "TEMPLATE_MAX_SECTION_DEPTH",
  maxOutputBytes: "TEMPLATE_RENDER_MAX_OUTPUT_BYTES",
  maxSteps: "TEMPLATE_RENDER_MAX_STEPS",
} as const satisfies Record<keyof RenderLimits, string>;

/**
 * Real templates nest a handful of sections and render tens of KiB; an email of a few
 * hundred KiB is still normal, and a list of hundreds of items fits the steps. At these
 * values the worst render the budget allows takes a millisecond or two once V8 has compiled
 * the renderer, and several times that as one of a process's first renders (measured by
 * `npm run bench:render`): a burst of them stays far from a noticeable stall.
 */
export const DEFAULT_RENDER_LIMITS: RenderLimits = {
  maxSectionDepth: 16,
  maxOutputBytes: 512 * 1024,
  maxSteps: 50_000,
};

export function renderLimitExceeded(detail: string): DomainError {
  return new DomainError(ErrorCatalog.templateRenderLimit, detail);
}
