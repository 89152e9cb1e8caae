/**
 * The texts the platform writes on orders, in zh-CN and English, as message keys with
 * parameters (order-text.schema.ts): the server stores the key and its parameters (and the
 * Chinese rendering in `content` for the paper form and older readers); the dashboard renders
 * the key in the reader's language with its own time formatter. Same tone as the resident
 * catalogue (resident-texts.ts, 规范用语): what happened, since when, what to do. Never a code,
 * id or key=value pair; resident-texts.test.ts scans these too. The templates are in texts.json.
 *
 * Parameters by name: `kind` (an incident kind) and `cause` (a cause class) are rendered through
 * their tables; a name ending in `At` is an epoch-ms time; anything else is shown as given
 * (addresses and outage reasons are data, written by people).
 */
import type { CauseClass, IncidentKind } from '../incident.schema.ts';
import type { OrderText } from './order-text.schema.ts';
import { CAUSE_TEXT, type TextLang, type TextTable } from './resident-texts.ts';
import TEXTS from './texts.json' with { type: 'json' };

export type { OrderText } from './order-text.schema.ts';

/**
 * A kind of incident as the dispatcher's form reads it (服务内容), never its code
 * (`predicted_cold`, issue #20: the forecast expects the flat below the standard within hours;
 * nobody is cold yet).
 */
export const KIND_TEXT: TextTable = TEXTS.kind;
const KIND_FALLBACK: Record<TextLang, string> = { 'zh-CN': '供热异常', en: 'a heating problem' };

/**
 * The templates, by key (the `prediction_*` ones: the lifecycle end of a predicted order, issue
 * #20). `{where}` parts are dropped when the order has no place in words.
 */
export const ORDER_TEXTS: TextTable = TEXTS.order;

/**
 * Render a stored text in `lang`. `time` formats an epoch-ms time for the reader. An unknown key
 * (a newer server) renders as undefined, so the caller shows the stored Chinese `content`.
 */
export function renderOrderText(t: OrderText, lang: TextLang, time: (ms: number) => string): string | undefined {
  const tpl = ORDER_TEXTS[t.key]?.[lang];
  if (!tpl) return undefined;
  const value = (name: string): string | undefined => {
    const v = t.params[name];
    if (v === undefined || v === '') return undefined;
    if (name === 'kind') return (KIND_TEXT[String(v)] ?? KIND_FALLBACK)[lang];
    if (name === 'cause') return (CAUSE_TEXT[String(v) as CauseClass] ?? CAUSE_TEXT.unknown)[lang];
    if (name.endsWith('At') && typeof v === 'number') return time(v);
    return String(v);
  };
  // "{where，}" / "{, at where}" / "{对where}": a part around a parameter, dropped with it when absent.
  return tpl.replace(/\{([^{}]*?)(\w+)([^{}\w]*)\}/g, (_m, before: string, name: string, after: string) => {
    const v = value(name);
    return v === undefined ? '' : `${before}${v}${after}`;
  });
}

/** 服务内容 of an order the platform opens from an incident (N20), as a key and parameters. */
export function proactiveText(
  i: {
    readonly kind: IncidentKind | string;
    readonly cause: CauseClass;
    readonly startTs: number;
    readonly evidence?: Readonly<Record<string, unknown>>;
  },
  where: string | undefined,
  standardC: number,
): OrderText {
  const params: Record<string, string | number> = { kind: i.kind, cause: i.cause, sinceAt: i.startTs, ...(where ? { where } : {}) };
  const firstBelowAt = i.evidence?.firstBelowAt;
  if (i.kind === 'predicted_cold' && typeof firstBelowAt === 'number')
    return { key: 'proactive_predicted', params: { ...params, firstBelowAt, standardC } };
  return { key: 'proactive', params };
}

/** 服务内容 of a planned outage's follow-up order (N9): check, home by home, that heat is back. */
export function outageFollowUpText(
  o: { readonly startsAt: number; readonly endsAt: number; readonly reason: string },
  where: string | undefined,
): OrderText {
  return { key: 'outage_followup', params: { startsAt: o.startsAt, endsAt: o.endsAt, reason: o.reason, ...(where ? { where } : {}) } };
}

/** Every template of this catalogue, for the scans. */
export function allOrderTexts(): string[] {
  const out: string[] = [];
  for (const t of [KIND_TEXT, ORDER_TEXTS]) for (const v of Object.values(t)) out.push(...Object.values(v));
  return out;
}
