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

export type TextLang = 'zh-CN' | 'en';
/** What happened, what we are doing, when. */
export interface ResidentText {
  readonly happened: string;
  readonly doing: string;
  readonly when: string;
}

type Params = Readonly<Record<string, string | number>>;
const fill = (t: string, p: Params): string => t.replace(/\{(\w+)\}/g, (m, k: string) => (k in p ? String(p[k]) : m));

/** Why heat is short, as a resident can read it (the cause class, never its code). */
export const CAUSE_TEXT: Readonly<Record<CauseClass, Record<TextLang, string>>> = {
  heat_source: { 'zh-CN': '热源或主管网供热不足', en: 'the heat supply to the district network is short' },
  station: { 'zh-CN': '小区换热站设备故障', en: 'a fault at the local heat-exchange station' },
  building: { 'zh-CN': '楼内管道水力不平衡', en: 'the pipes in your building are out of balance' },
  in_home: { 'zh-CN': '户内暖气片或阀门的问题', en: 'a problem with the radiators or valves in the home' },
  not_a_fault: { 'zh-CN': '不属于供热故障', en: 'not a heating fault' },
  unknown: { 'zh-CN': '原因正在查找', en: 'the cause is still being found' },
};

/** What happened, by the kind of order (a system order by what it covers). */
const HAPPENED: Readonly<Record<string, Record<TextLang, string>>> = {
  proactive_apartment: {
    'zh-CN': '您好，我们的监测发现您家的室温低于{standard}°C的供热标准。',
    en: 'Hello, our monitoring shows that your home is below the {standard} °C heating standard.',
  },
  proactive_building: {
    'zh-CN': '您好，我们的监测发现您所在楼栋多户室温低于{standard}°C的供热标准。',
    en: 'Hello, our monitoring shows that several homes in your building are below the {standard} °C heating standard.',
  },
  proactive_station: {
    'zh-CN': '您好，我们的监测发现为您小区供热的换热站运行异常，室温可能低于{standard}°C。',
    en: 'Hello, our monitoring shows a problem at the station that heats your area; rooms may fall below {standard} °C.',
  },
  proactive_source: {
    'zh-CN': '您好，我们的监测发现片区热源供热不足，室温可能低于{standard}°C。',
    en: 'Hello, our monitoring shows the heat supply to your district is short; rooms may fall below {standard} °C.',
  },
  // Issue #20: opened from a forecast — nobody is cold yet, so the resident is not told they are.
  proactive_predicted: {
    'zh-CN': '您好，我们的监测预计您家的室温在数小时内可能低于{standard}°C的供热标准，目前尚未发生。',
    en: 'Hello, our monitoring expects that your home may fall below the {standard} °C heating standard within hours; it has not happened yet.',
  },
  complaint: {
    'zh-CN': '您好，我们已收到您反映的供热问题，谢谢您告诉我们。',
    en: 'Hello, we have your report about the heating. Thank you for telling us.',
  },
  measurement: { 'zh-CN': '您好，我们已收到您的测温申请。', en: 'Hello, we have your request to measure the room temperature.' },
  outage_followup: { 'zh-CN': '您好，计划停热检修已经结束。', en: 'Hello, the planned maintenance outage has ended.' },
};

/** What we are doing, by status. */
const DOING: Readonly<Record<OrderStatus, Record<TextLang, string>>> = {
  new: {
    'zh-CN': '您反映的问题我们会及时转给供热所，公司将尽快处理并给您答复。',
    en: 'We are passing it to the heating office now and will answer you soon.',
  },
  dispatched: {
    'zh-CN': '我们已经安排供热所的工作人员处理，会先打电话与您约定上门时间。',
    en: 'A heating office team has the job and will phone you to agree a visit.',
  },
  accepted: {
    'zh-CN': '工作人员已与您约定上门时间，请您耐心等待。',
    en: 'The team has agreed a visit with you; thank you for your patience.',
  },
  on_site: { 'zh-CN': '工作人员正在为您处理。', en: 'The team is working on it now.' },
  resolved: {
    'zh-CN': '问题已经处理，客服中心会在合适的时间给您回访。',
    en: 'It has been dealt with; our service centre will call you back at a suitable time.',
  },
  callback: { 'zh-CN': '感谢您接受回访，也请您为这次服务评价。', en: 'Thank you for taking our call; please rate the service.' },
  closed: {
    'zh-CN': '服务已完成，感谢您对我们工作的支持和理解。',
    en: 'The service is complete. Thank you for your support and understanding.',
  },
  cancelled: {
    'zh-CN': '这张服务单已撤销，非常抱歉给您带来的不便；如仍有问题请再告诉我们。',
    en: 'This order was withdrawn; we are sorry for the trouble. If the problem remains, please tell us again.',
  },
};

const WHEN: Readonly<Record<string, Record<TextLang, string>>> = {
  appointment: { 'zh-CN': '约定上门时间：{time}。', en: 'Agreed visit: {time}.' },
  answer: { 'zh-CN': '我们会在{hours}小时内给您答复。', en: 'We will answer you within {hours} hours.' },
  restore: {
    'zh-CN': '非热源原因的故障，我们会在{hours}小时内恢复供热。',
    en: 'Where the heat source is not the cause, heating is restored within {hours} hours.',
  },
  done: { 'zh-CN': '处理时间：{time}。', en: 'Dealt with: {time}.' },
  predicted: { 'zh-CN': '我们会在您家变冷之前安排检查。', en: 'We are arranging a check before your home gets cold.' },
};

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
  if (o.resolvedAt !== undefined) when = fill(WHEN.done![lang], { time: ctx.time(o.resolvedAt) });
  else if (o.appointmentAt !== undefined) when = fill(WHEN.appointment![lang], { time: ctx.time(o.appointmentAt) });
  else if (o.prediction && o.prediction.state !== 'confirmed') when = WHEN.predicted![lang];
  else if (o.source === 'proactive') when = fill(WHEN.restore![lang], { hours: ctx.restoreWithinHours });
  else when = fill(WHEN.answer![lang], { hours: ctx.answerWithinHours }); // N10
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
