// Message catalogues and the choice among them by Accept-Language (RFC 9110 §12.5.4), English first.
import { type Catalogue, en, type MessageKey } from './en.js';

export type { MessageKey } from './en.js';

/** Every language the pages speak; the first is the fallback. Add a catalogue here to add a language. */
export const catalogues: Record<string, Catalogue> = { en };
export const DEFAULT_LOCALE = 'en';

/** The best available language for an Accept-Language header: by q-value, then order; primary subtags match. */
export function negotiateLocale(header: string | undefined, available: readonly string[] = Object.keys(catalogues)): string {
  if (!header) return DEFAULT_LOCALE;
  const ranges = header
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((r) => r.tag !== '' && r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranges) {
    if (tag === '*') return DEFAULT_LOCALE;
    const exact = available.find((l) => l.toLowerCase() === tag);
    if (exact) return exact;
    const primary = available.find((l) => l.toLowerCase() === tag.split('-')[0]);
    if (primary) return primary;
  }
  return DEFAULT_LOCALE;
}

export type Translate = (key: MessageKey, params?: Record<string, string>) => string;

/** A translator for `locale`: `{name}` placeholders are replaced; templates escape the result. */
export function translator(locale: string): Translate {
  const catalogue = catalogues[locale] ?? en;
  return (key, params = {}) => catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);
}

/**
 * One formatter per language, made on first use: building an Intl.DateTimeFormat took 4% of authorize-ui's busy
 * time in the bench's full flow (docs/performance.md). Keyed by the negotiated locale, one of `catalogues`.
 */
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** Dates as app owners read them, in UTC so every instance shows the same day. */
export function formatDate(locale: string, date: Date): string {
  let format = dateFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' });
    if (dateFormats.size < 64) dateFormats.set(locale, format);
  }
  return format.format(date);
}
