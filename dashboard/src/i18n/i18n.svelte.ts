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

  /**
   * For keys built from data (incident kinds, statuses, evidence). A code without a text is a
   * bug, not a fallback: it is recorded in `missing` (and on `window.__heatwatchI18nMissing`,
   * which the browser i18n walk reads), and marked on screen in a dev build.
   */
  tx = (prefix: string, value: string | undefined, params?: Record<string, string | number>): string => {
    if (value === undefined) return '';
    const table = tables[this.locale] as Record<string, string>;
    const s = table[`${prefix}.${value}`];
    if (s !== undefined) return format(s, params);
    this.noteMissing(`${prefix}.${value}`);
    return import.meta.env?.DEV ? `⚠${prefix}.${value}` : value;
  };

  /** Keys asked for but absent, as `locale:key`. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a diagnostics record for tests (i18n.test.ts), never rendered
  readonly missing = new Set<string>();

  private noteMissing(key: string): void {
    const k = `${this.locale}:${key}`;
    if (this.missing.has(k)) return;
    this.missing.add(k);
    const g = globalThis as { __heatwatchI18nMissing?: string[] };
    (g.__heatwatchI18nMissing ??= []).push(k);
    console.warn(`i18n: no text for ${k}`);
  }

  /** An evidence value for people: codes translated, times formatted, numbers trimmed; ids stay ids. */
  evidence = (key: string, v: unknown): string => {
    if (v === null || v === undefined) return '—';
    // Times: `…Ts` from the rules, `…At` from the forecaster (issue #20).
    if (typeof v === 'number') return key.endsWith('Ts') || key.endsWith('At') ? this.dateTime(v) : String(Number(v.toFixed(3)));
    if (typeof v === 'boolean') return this.t(v ? 'common.yes' : 'common.no');
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    if (key === 'faults')
      return text
        .split(',')
        .map((f) => this.tx('fault', f))
        .join('、');
    if (key === 'stationState') {
      const [state, faults] = text.split(':');
      return faults
        ? `${this.tx('stationState', state)}：${faults
            .split(',')
            .map((f) => this.tx('fault', f))
            .join('、')}`
        : this.tx('stationState', state);
    }
    if (key === 'coverage' || key === 'scope' || key === 'outdoorSource' || key === 'outcome') return this.tx(`evidence.${key}`, text);
    return text;
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
      : // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a throwaway Date to format a timestamp, not state
        new Date(ms).toLocaleString(this.locale, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });

  time = (ms: number | undefined): string =>
    ms === undefined || !Number.isFinite(ms)
      ? '—'
      : // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a throwaway Date to format a timestamp, not state
        new Date(ms).toLocaleTimeString(this.locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

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
