import type { LocaleContent } from "./template.ts";

/**
 * The content to use for a requested locale: the exact locale (ru-RU), then its
 * language (ru), then another region of that language (ru-BY), then the template's
 * default. Matching ignores case, as BCP 47 tags do.
 */
export function resolveLocale(
  locales: LocaleContent[],
  requested: string,
  defaultLanguageCode: string,
): LocaleContent | undefined {
  const byCode = (code: string) => locales.find((l) => l.languageCode.toLowerCase() === code.toLowerCase());
  const language = requested.split("-")[0]?.toLowerCase() ?? "";
  return (
    (requested ? byCode(requested) : undefined) ??
    (language ? byCode(language) : undefined) ??
    (language ? locales.find((l) => l.languageCode.toLowerCase().startsWith(`${language}-`)) : undefined) ??
    byCode(defaultLanguageCode)
  );
}
