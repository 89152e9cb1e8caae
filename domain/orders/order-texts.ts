/**
 * The texts the platform writes on orders, in zh-CN and English, as message keys with
 * parameters (order-text.schema.ts): the server stores the key and its parameters (and the
 * Chinese rendering in `content` for the paper form and older readers); the dashboard renders
 * the key in the reader's language with its own time formatter. Same tone as the resident
 * catalogue (resident-texts.ts, 规范用语): what happened, since when, what to do. Never a code,
 * id or key=value pair; resident-texts.test.ts scans these too.
 *
 * Parameters by name: `kind` (an incident kind) and `cause` (a cause class) are rendered through
 * their tables; a name ending in `At` is an epoch-ms time; anything else is shown as given
 * (addresses and outage reasons are data, written by people).
 */
import type { CauseClass, IncidentKind } from '../incident.schema.ts';
import type { OrderText } from './order-text.schema.ts';
import { CAUSE_TEXT, type TextLang } from './resident-texts.ts';

export type { OrderText } from './order-text.schema.ts';

/** A kind of incident as the dispatcher's form reads it (服务内容), never its code. */
export const KIND_TEXT: Readonly<Record<string, Record<TextLang, string>>> = {
  apartment_cold: { 'zh-CN': '住户室温低于标准', en: 'a home below the heating standard' },
  building_cold: { 'zh-CN': '楼栋多户室温低于标准', en: 'several homes in the building below the heating standard' },
  station_cold: { 'zh-CN': '换热站所供区域室温低于标准', en: 'homes served by the station below the heating standard' },
  source_cold: { 'zh-CN': '热源片区室温低于标准', en: 'homes of the heat-source district below the heating standard' },
  station_fault: { 'zh-CN': '换热站设备故障', en: 'an equipment fault at the heat-exchange station' },
  station_silent: { 'zh-CN': '换热站计量表无数据', en: 'no data from the station meter' },
  // Issue #20: the forecast expects the flat below the standard within hours; nobody is cold yet.
  predicted_cold: {
    'zh-CN': '预计数小时内住户室温将低于标准（尚未发生）',
    en: 'a home expected to fall below the standard within hours (not yet)',
  },
};
const KIND_FALLBACK: Record<TextLang, string> = { 'zh-CN': '供热异常', en: 'a heating problem' };

/** The templates, by key. `{where}` parts are dropped when the order has no place in words. */
export const ORDER_TEXTS: Readonly<Record<string, Record<TextLang, string>>> = {
  proactive: {
    'zh-CN': '系统监测发现：{where，}{kind}，自{sinceAt}起。初步判断：{cause}。请尽快派单处理，并电话告知受影响的用户。',
    en: 'Monitoring found {kind}{, at where} since {sinceAt}. First assessment: {cause}. Please dispatch it soon and phone the residents affected.',
  },
  proactive_predicted: {
    'zh-CN':
      '系统预测：{where，}{kind}，预计{firstBelowAt}前后低于{standardC}°C（{sinceAt}的预测）。初步判断：{cause}。请在住户受冷前安排上门检查，并电话告知住户。',
    en: 'Forecast: {kind}{, at where}, expected below {standardC} °C around {firstBelowAt} (forecast of {sinceAt}). First assessment: {cause}. Please book a visit before the resident is cold, and phone the resident.',
  },
  outage_followup: {
    'zh-CN': '计划停热（{startsAt}至{endsAt}，{reason}）已结束：请{对where}逐户核查供热已恢复，并告知用户。',
    en: 'The planned outage ({startsAt} to {endsAt}, {reason}) has ended: please check home by home{ at where} that heating is back, and tell the residents.',
  },
  // Issue #20: the lifecycle end of a predicted order.
  prediction_avoided: {
    'zh-CN': '预测的室温不足没有发生：到{untilAt}为止住户室温一直不低于标准。系统已自动撤销这张主动工单；如已约定上门，请电话告知住户。',
    en: 'The predicted shortfall did not happen: the home stayed at or above the standard until {untilAt}. The system withdrew this proactive order; if a visit was agreed, please phone the resident.',
  },
  prediction_avoided_on_site: {
    'zh-CN': '预测的室温不足没有发生：到{untilAt}为止住户室温一直不低于标准。工作人员已在现场，请按正常流程完成处理。',
    en: 'The predicted shortfall did not happen: the home stayed at or above the standard until {untilAt}. The team is already on site; please finish the job as usual.',
  },
  prediction_confirmed: {
    'zh-CN': '预测已被证实：住户室温自{coldSinceAt}起低于标准。这张工单从此按报修工单处理，逐级上报时限从此时起算。',
    en: 'The forecast came true: the home has been below the standard since {coldSinceAt}. The order is a repair order from now on, and its escalation times count from then.',
  },
};

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
