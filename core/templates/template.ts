import type { Channel } from "../channels.ts";

/** Variables for Mustache: any JSON object (nested objects and lists for sections). */
export type Variables = { [key: string]: unknown };

/** The content of one version in one locale; each field is a Mustache template. */
export interface LocaleContent {
  languageCode: string;
  subject: string;
  body: string;
  bodyHtml: string;
}

/** What a caller sets on a template; the rest is the server's. */
export interface TemplateDraft {
  name: string;
  description: string;
  channel: Channel;
  defaultLanguageCode: string;
  exampleVariables: Variables;
  /** False: emails sent from it carry no open pixel and no tracked links. Absent: they do. */
  trackingEnabled?: boolean;
}

export interface Template extends TemplateDraft {
  id: string;
  /** 0 while no version is active. */
  activeVersion: number;
  /** 0 while the template has no versions. */
  latestVersion: number;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface TemplateVersion {
  templateId: string;
  version: number;
  locales: LocaleContent[];
  /** Whether sends use this version now. */
  active: boolean;
  /** When it was first activated; from then on it never changes. */
  activatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface TemplatePage {
  templates: Template[];
  /** Empty on the last page. */
  nextPageToken: string;
}

export interface TemplateFilter {
  channel?: Channel;
  namePrefix?: string;
  pageSize: number;
  pageToken?: string;
}
