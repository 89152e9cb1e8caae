/**
 * The language switch: zh-CN by default, English on request; remembered in localStorage.
 * Components call `i18n.t(key, params)`; reading `locale` inside `t` makes every string
 * re-render when the language changes.
 */
import { en } from './en.ts';
import { zhCN, type MessageKey } from './zh-CN.ts';

export type Locale = 'zh-CN' | 'en';
export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];
const tables: Record<Locale, Record<MessageKey, string>> = { 'zh-CN': zhCN, en };
const STORAGE_KEY = 'heatwatch.locale';

export function format(template: string, params?: Record<string, string | number>): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

export class I18n {
  locale = $state<Locale>('zh-CN');

  constructor(initial?: string | null) {
    if (initial === 'en' || initial === 'zh-CN') this.locale = initial;
  }

  t = (key: MessageKey, params?: Record<string, string | number>): string => format(tables[this.locale][key] ?? key, params);

  /** For keys built from data (incident kinds, statuses): falls back to the raw value. */
  tx = (prefix: string, value: string | undefined, params?: Record<string, string | number>): string => {
    if (value === undefined) return '';
    const table = tables[this.locale] as Record<string, string>;
    const s = table[`${prefix}.${value}`];
    return s === undefined ? value : format(s, params);
  };

  set(locale: Locale): void {
    this.locale = locale;
    try {
      localStorage.setItem(STORAGE_KEY, locale);
      document.documentElement.lang = locale;
    } catch {
      // storage unavailable (private mode): the switch still works for this page
    }
  }

  dateTime = (ms: number | undefined): string =>
    ms === undefined || !Number.isFinite(ms)
      ? '—'
      : new Date(ms).toLocaleString(this.locale, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });

  time = (ms: number | undefined): string =>
    ms === undefined || !Number.isFinite(ms) ? '—' : new Date(ms).toLocaleTimeString(this.locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

  /** A duration as "n min" / "h h m min" / "d d h h". */
  duration = (ms: number): string => {
    const min = Math.floor(Math.abs(ms) / 60_000);
    if (min < 60) return this.t('time.minutes', { n: min });
    const h = Math.floor(min / 60);
    if (h < 48) return this.t('time.hours', { h, m: min % 60 });
    return this.t('time.days', { d: Math.floor(h / 24), h: h % 24 });
  };
}

function stored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export const i18n = new I18n(typeof localStorage === 'undefined' ? null : stored());
