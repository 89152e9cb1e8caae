/**
 * What residents are told about their orders, and the 服务内容 the platform writes on the
 * orders it opens itself, in plain Chinese and English. Built on the seed's standard phrases
 * (规范用语, 第一篇 ch.1: 您好、请、谢谢、对不起、再见; §7 "非常抱歉，给您带来的不便表示歉意";
 * §8 "感谢您对我们工作的支持和理解"; §14 "我们已经安排工作人员入户了…请您再耐心等待"; ch.4 §12
 * "您反映的问题我会及时向公司反馈，公司将尽快处理并给您答复"), each text saying what happened,
 * what we are doing and when. Never a code, an id or a key=value pair: the machine evidence
 * stays structured on the incident the order links to. resident-texts.test.ts scans every
 * text here, the dashboard's catalogues and the server-written order texts for the forbidden
 * phrases (服务忌语, ch.1 §17) and for raw codes.
 */
import type { CauseClass } from '../incident.schema.ts';
import type { OrderSource, OrderStatus, OrderSubject } from './order.schema.ts';
import type { PredictionState } from './order-text.schema.ts';
import TEXTS from './texts.json' with { type: 'json' };

export type TextLang = 'zh-CN' | 'en';
/**
 * A table of texts by key, each in both languages. The tables themselves are texts.json: one
 * catalogue of what the platform writes (this module's and order-texts.ts'), content apart from
 * the code that picks and fills it; each is typed here, so a missing key fails type-checking.
 */
export type TextTable<K extends string = string> = Readonly<Record<K, Readonly<Record<TextLang, string>>>>;
/** What happened, what we are doing, when. */
export interface ResidentText {
  readonly happened: string;
  readonly doing: string;
  readonly when: string;
}

type Params = Readonly<Record<string, string | number>>;
const fill = (t: string, p: Params): string => t.replace(/\{(\w+)\}/g, (m, k: string) => (k in p ? String(p[k]) : m));

/** Why heat is short, as a resident can read it (the cause class, never its code). */
export const CAUSE_TEXT: TextTable<CauseClass> = TEXTS.cause;
/**
 * What happened, by the kind of order (a system order by what it covers; `proactive_predicted`:
 * opened from a forecast, issue #20 — nobody is cold yet, so the resident is not told they are).
 */
const HAPPENED: TextTable = TEXTS.happened;
/** What we are doing, by status. */
const DOING: TextTable<OrderStatus> = TEXTS.doing;
const WHEN: TextTable<keyof typeof TEXTS.when> = TEXTS.when;

/** Which happened-text an order takes. */
export function happenedKey(o: {
  readonly source: OrderSource;
  readonly subjectType?: OrderSubject;
  readonly prediction?: { readonly state: PredictionState };
}): string {
  // A confirmed prediction is a repair order: the resident is cold now and is told so.
  if (o.prediction && o.prediction.state !== 'confirmed') return 'proactive_predicted';
  return o.source === 'proactive' ? `proactive_${o.subjectType ?? 'apartment'}` : o.source;
}

export interface ResidentTextInput {
  readonly source: OrderSource;
  readonly subjectType?: OrderSubject;
  readonly status: OrderStatus;
  readonly appointmentAt?: number;
  readonly resolvedAt?: number;
  readonly prediction?: { readonly state: PredictionState };
}

/**
 * The resident's text for an order: what happened, what we are doing now, when. `time`
 * formats a timestamp for the reader (the dashboard passes its locale's formatter).
 */
export function residentText(
  o: ResidentTextInput,
  lang: TextLang,
  ctx: {
    readonly standardC: number;
    readonly answerWithinHours: number;
    readonly restoreWithinHours: number;
    readonly time: (ms: number) => string;
  },
): ResidentText {
  const happened = fill((HAPPENED[happenedKey(o)] ?? HAPPENED.complaint!)[lang], { standard: ctx.standardC });
  const doing = DOING[o.status][lang];
  let when: string;
  if (o.resolvedAt !== undefined) when = fill(WHEN.done[lang], { time: ctx.time(o.resolvedAt) });
  else if (o.appointmentAt !== undefined) when = fill(WHEN.appointment[lang], { time: ctx.time(o.appointmentAt) });
  else if (o.prediction && o.prediction.state !== 'confirmed') when = WHEN.predicted[lang];
  else if (o.source === 'proactive') when = fill(WHEN.restore[lang], { hours: ctx.restoreWithinHours });
  else when = fill(WHEN.answer[lang], { hours: ctx.answerWithinHours }); // N10
  return { happened, doing, when };
}

// The texts the server writes on orders (服务内容, closing reasons) are in order-texts.ts, as
// message keys rendered in the reader's language.

/** Local "MM-DD HH:mm" in the city's zone, for server-written texts (China has no DST). */
export function localTime(utcOffsetMinutes: number): (ms: number) => string {
  return (ms) => new Date(ms + utcOffsetMinutes * 60_000).toISOString().slice(5, 16).replace('T', ' ');
}

/** Every text of this catalogue, for the scan. */
export function allCatalogueTexts(): string[] {
  const out: string[] = [];
  for (const t of [CAUSE_TEXT, HAPPENED, DOING, WHEN]) for (const v of Object.values(t)) out.push(...Object.values(v));
  return out;
}
