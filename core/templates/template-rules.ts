import { DomainError, ErrorCatalog } from "../errors.ts";
import type { Template, TemplateVersion } from "./template.ts";

/**
 * Decides, while the store holds the template locked, whether a write may go on: it
 * throws to refuse. `current` is undefined when there is no such template.
 */
export type TemplateWriteCheck = (current: Template | undefined) => void;

/** The same for a write to one version; either is undefined when missing. */
export type VersionWriteCheck = (
  template: Template | undefined,
  version: TemplateVersion | undefined,
) => void;

/** The template exists and, unless `expectedRevision` is 0, is at that revision. */
export function requireRevision(id: string, expectedRevision: number): TemplateWriteCheck {
  return (current) => {
    if (!current) throw templateNotFound(id);
    if (expectedRevision !== 0 && current.revision !== expectedRevision) {
      throw new DomainError(
        ErrorCatalog.staleRevision,
        `template ${id} is at revision ${current.revision}, not ${expectedRevision}: read it again and retry`,
        { pointer: "/expected_revision" },
      );
    }
  };
}

/** The version exists; `editable` also asks that it was never activated, since sends may have used it. */
export function requireVersion(
  templateId: string,
  version: number,
  { editable }: { editable: boolean },
): VersionWriteCheck {
  return (template, found) => {
    if (!template) throw templateNotFound(templateId);
    if (!found) throw versionNotFound(templateId, version);
    if (editable && found.activatedAt) {
      throw new DomainError(
        ErrorCatalog.failedPrecondition,
        `version ${version} was activated and can no longer change: create a new version`,
        { pointer: "/version" },
      );
    }
  };
}

export function templateNotFound(id: string): DomainError {
  return new DomainError(ErrorCatalog.notFound, `template ${id} does not exist`, { pointer: "/template_id" });
}

export function versionNotFound(templateId: string, version: number): DomainError {
  return new DomainError(ErrorCatalog.notFound, `template ${templateId} has no version ${version}`, {
    pointer: "/version",
  });
}
