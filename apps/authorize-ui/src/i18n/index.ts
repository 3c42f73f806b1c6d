// Message catalogues and the choice among them: a remembered choice (cookie) first, then Accept-Language
// (RFC 9110 §12.5.4), English last.
import { de } from './de.js';
import { type Catalogue, en, type MessageKey } from './en.js';
import { es } from './es.js';
import { fr } from './fr.js';
import { ja } from './ja.js';

export type { MessageKey } from './en.js';

/** Every language the pages speak; the first is the fallback. Add a catalogue here to add a language. */
export const catalogues: Record<string, Catalogue> = { en, fr, de, es, ja };
export const DEFAULT_LOCALE = 'en';
/** The cookie that remembers a language chosen with the switcher. */
export const LOCALE_COOKIE = 'lang';

export const isLocale = (value: string | undefined): value is string => value !== undefined && Object.hasOwn(catalogues, value);

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

/** The page's language: the one chosen with the switcher when it is one we speak, else the browser's. */
export function chooseLocale(cookie: string | undefined, acceptLanguage: string | undefined): string {
  return isLocale(cookie) ? cookie : negotiateLocale(acceptLanguage);
}

export type Translate = (key: MessageKey, params?: Record<string, string>) => string;
export type TranslateWithLink = (key: MessageKey, link: { href: string; text: string }, params?: Record<string, string>) => string;

/** A translator for `locale`: `{name}` placeholders are replaced; templates escape the result. */
export function translator(locale: string): Translate {
  const catalogue = catalogues[locale] ?? en;
  return (key, params = {}) => catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/**
 * For a message with a link inside (`{link}`), as HTML: the message, the parameters and the link text are
 * escaped; the href is the caller's own (a path on this site), never user input.
 */
export function linkTranslator(t: Translate): TranslateWithLink {
  return (key, link, params = {}) =>
    t(key, { ...params, link: '\u0000' })
      .split('\u0000')
      .map(escapeHtml)
      .join(`<a href="${escapeHtml(link.href)}">${escapeHtml(link.text)}</a>`);
}

/**
 * One formatter per language and style, made on first use: building an Intl.DateTimeFormat for every date took 4%
 * of authorize-ui's busy time in the bench's full flow (docs/performance.md). Keyed by the negotiated locale.
 */
const formats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(locale: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${withTime ? 't' : 'd'}:${locale}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { dateStyle: 'long', ...(withTime ? { timeStyle: 'short' } : {}), timeZone: 'UTC' });
    if (formats.size < 64) formats.set(key, format);
  }
  return format;
}

/** Dates as app owners read them, in UTC so every instance shows the same day. */
export function formatDate(locale: string, date: Date): string {
  return dateFormat(locale, false).format(date);
}

/** A date and hour (UTC, named), for "last used". */
export function formatDateTime(locale: string, date: Date): string {
  return `${dateFormat(locale, true).format(date)} UTC`;
}
