/**
 * Every resident-facing string, in both languages, is free of the forbidden phrases (服务忌语,
 * seed 第一篇 ch.1 §17) and of raw codes and ids: the dashboard's i18n tables (zh-CN, en),
 * the resident-texts catalogue (domain/orders/resident-texts.ts) for every source, subject,
 * status and time, and the 服务内容 the server writes on the orders it opens itself (every
 * incident kind × cause, and a planned outage's follow-up) — the functions the API's intake
 * calls. The catalogue's texts use the standard phrases (规范用语 ch.1 §1: 您好、谢谢 …).
 */
import { describe, expect, it } from 'vitest';
import { en } from '../dashboard/src/i18n/en.ts';
import { zhCN } from '../dashboard/src/i18n/zh-CN.ts';
import { CauseClassSchema, IncidentKindSchema } from '../domain/incident.schema.ts';
import { OrderSourceSchema, OrderStatusSchema, OrderSubjectSchema } from '../domain/orders/order.schema.ts';
import { allCatalogueTexts, localTime, residentText, type TextLang } from '../domain/orders/resident-texts.ts';
import { allOrderTexts, outageFollowUpText, proactiveText, renderOrderText } from '../domain/orders/order-texts.ts';
import { defaultPolicy } from '../domain/policy.ts';

const values = (schema: unknown): string[] => {
  const s = schema as { enum?: string[]; anyOf?: { const: string }[] };
  return s.enum ?? s.anyOf!.map((x) => x.const);
};

/** 服务忌语 (ch.1 §17), each as its telling fragment, and the same attitudes in English. */
const FORBIDDEN = [
  '这是规定',
  '就不行',
  '我就这态度',
  '不满意到别处问',
  '到别处问',
  '你问我，我问谁',
  '我问谁',
  '怎么还不明白',
  '说了这么多遍',
  '你认为不对吗',
  '只能解答到这里',
  '不是刚才和你说过了吗',
  '怎么还问',
  '没有更好得解释',
  '没有更好的解释',
  "that's the rule",
  'that is the rule',
  'take it or leave it',
  'ask somewhere else',
  'go elsewhere',
  'how should i know',
  "don't you understand",
  'i already told you',
  'told you already',
  'how many times',
  'i can only answer this far',
  'no better explanation',
];
/** A raw code or id: snake_case codes, error codes, key=value evidence, template leftovers, record ids. */
const RAW = [/\b[a-z]+_[a-z_]+\b/, /HEAT_ERR/, /\w=\S/, /\$\{/, /\b(ord|out|off|st|rs|sm|gw|p)-[0-9a-z]{3,}/, /\bb\d{4}-/];

function problems(where: string, text: string, rawToo = true): string[] {
  const out: string[] = [];
  const low = text.toLowerCase();
  for (const f of FORBIDDEN) if (low.includes(f.toLowerCase())) out.push(`${where}: forbidden phrase "${f}" in "${text}"`);
  if (rawToo) for (const r of RAW) if (r.test(text)) out.push(`${where}: raw code ${r} in "${text}"`);
  return out;
}

const time = localTime(defaultPolicy.utcOffsetMinutes);
const T = Date.UTC(2026, 11, 2, 0, 0);

describe('resident-facing texts (ch.1 §17 forbidden phrases, no raw codes)', () => {
  it('the dashboard tables, both languages: no forbidden phrase anywhere, no raw code in the texts a resident reads', () => {
    const found: string[] = [];
    // Screens a resident sees: the home, order statuses, ratings, errors, states, the outage notice.
    const residentKey = (k: string) =>
      /^(home|orderStatus|state|common|nav|oa\.score|oa\.error|oa\.choose|login|app|outage\.(title|told)|pw)\b/.test(k);
    for (const [lang, table] of [
      ['zh-CN', zhCN],
      ['en', en],
    ] as const) {
      for (const [k, v] of Object.entries(table as Record<string, string>)) found.push(...problems(`${lang} ${k}`, v, residentKey(k)));
    }
    expect(found).toEqual([]);
  });

  it('the catalogue: every text, and every resident text an order can produce in both languages', () => {
    const found: string[] = allCatalogueTexts().flatMap((t, i) => problems(`catalogue #${i}`, t));
    const ctx = (_lang: TextLang) => ({ standardC: 18, answerWithinHours: 24, restoreWithinHours: 24, time });
    let n = 0;
    for (const lang of ['zh-CN', 'en'] as const) {
      for (const source of values(OrderSourceSchema)) {
        for (const subjectType of values(OrderSubjectSchema)) {
          for (const status of values(OrderStatusSchema)) {
            for (const when of [{}, { appointmentAt: T }, { resolvedAt: T }]) {
              const t = residentText({ source, subjectType, status, ...when } as Parameters<typeof residentText>[0], lang, ctx(lang));
              for (const part of [t.happened, t.doing, t.when]) {
                expect(part.length, `${lang} ${source} ${status}`).toBeGreaterThan(0);
                found.push(...problems(`${lang} ${source}/${subjectType}/${status}`, part));
                n++;
              }
            }
          }
        }
      }
    }
    expect(n).toBe(2 * 4 * 4 * 8 * 3 * 3);
    expect(found).toEqual([]);
    // 规范用语: greeting and thanks, in plain words (ch.1 §1).
    expect(residentText({ source: 'complaint', status: 'new' }, 'zh-CN', ctx('zh-CN')).happened).toMatch(/^您好/);
    expect(residentText({ source: 'complaint', status: 'closed' }, 'zh-CN', ctx('zh-CN')).doing).toContain('感谢您对我们工作的支持和理解');
    expect(residentText({ source: 'proactive', subjectType: 'apartment', status: 'dispatched' }, 'en', ctx('en')).happened).toContain(
      '18 °C',
    );
  });

  it('the texts the server writes on its own orders, in both languages: every incident kind × cause, a prediction, an outage follow-up and the prediction outcomes', () => {
    const found: string[] = allOrderTexts().flatMap((t, i) => problems(`order text #${i}`, t));
    const render = (t: Parameters<typeof renderOrderText>[0], lang: TextLang) => {
      const text = renderOrderText(t, lang, time);
      expect(text, `${t.key} ${lang}`).toBeTypeOf('string');
      // Every placeholder filled: no braces left on screen.
      expect(text, `${t.key} ${lang}`).not.toMatch(/[{}]/);
      return text!;
    };
    for (const lang of ['zh-CN', 'en'] as const) {
      for (const kind of values(IncidentKindSchema)) {
        for (const cause of values(CauseClassSchema)) {
          for (const where of ['和平里小区 3号楼 2单元 502', '东区换热站', undefined]) {
            for (const evidence of [{}, { firstBelowAt: T + 5 * 3_600_000 }]) {
              const text = render(proactiveText({ kind, cause: cause as never, startTs: T, evidence }, where, 18), lang);
              expect(text).toContain(time(T)); // since when, in the reader's time
              found.push(...problems(`proactive ${kind}/${cause} ${lang}`, text));
            }
          }
        }
      }
      found.push(
        ...problems(
          `outage follow-up ${lang}`,
          render(outageFollowUpText({ startsAt: T, endsAt: T + 4 * 3_600_000, reason: '板式换热器清洗检修' }, '和平里换热站'), lang),
        ),
      );
      for (const key of ['prediction_avoided', 'prediction_avoided_on_site', 'prediction_confirmed'])
        found.push(...problems(`${key} ${lang}`, render({ key, params: { untilAt: T, coldSinceAt: T } }, lang)));
    }
    expect(found).toEqual([]);
  });

  it('catches what it is meant to catch (the old machine text, a forbidden phrase in English and Chinese)', () => {
    expect(problems('old', 'apartment_cold (station): pumpHz=0')).toHaveLength(2);
    expect(problems('zh', '这是规定，就不行。')).not.toEqual([]);
    expect(problems('en', 'I already told you.')).not.toEqual([]);
    expect(problems('id', 'follow-up of planned outage out-1a2b3c4d5e')).not.toEqual([]);
  });
});
