/**
 * The renderer of platform-written order texts (issue #20): one stored key + parameters, shown
 * in the reader's language with the reader's time format; a part around a missing parameter
 * drops with it; an unknown key (a newer server) renders as undefined so the screen falls back
 * to the stored Chinese `content`, which is also how orders written before the key read.
 */
import { describe, expect, it } from 'vitest';
import { outageFollowUpText, proactiveText, renderOrderText } from './order-texts.ts';
import { localTime } from './resident-texts.ts';

const T = Date.UTC(2026, 11, 2, 0, 0);
const zhTime = localTime(480);
const enTime = (ms: number) => `at ${new Date(ms).toISOString()}`;

describe('renderOrderText', () => {
  it('renders a proactive order in Chinese exactly as the paper form had it, and in English for English readers', () => {
    const t = proactiveText({ kind: 'apartment_cold', cause: 'in_home', startTs: T }, '和平里 3号楼 502', 18);
    expect(t).toEqual({ key: 'proactive', params: { kind: 'apartment_cold', cause: 'in_home', sinceAt: T, where: '和平里 3号楼 502' } });
    expect(renderOrderText(t, 'zh-CN', zhTime)).toBe(
      '系统监测发现：和平里 3号楼 502，住户室温低于标准，自12-02 08:00起。初步判断：户内暖气片或阀门的问题。请尽快派单处理，并电话告知受影响的用户。',
    );
    expect(renderOrderText(t, 'en', enTime)).toBe(
      `Monitoring found a home below the heating standard, at 和平里 3号楼 502 since at ${new Date(T).toISOString()}. First assessment: a problem with the radiators or valves in the home. Please dispatch it soon and phone the residents affected.`,
    );
  });

  it('a prediction says when the home is expected below the standard, and that it has not happened', () => {
    const t = proactiveText(
      { kind: 'predicted_cold', cause: 'station', startTs: T, evidence: { firstBelowAt: T + 5 * 3_600_000 } },
      undefined,
      18,
    );
    expect(t.key).toBe('proactive_predicted');
    const zh = renderOrderText(t, 'zh-CN', zhTime)!;
    expect(zh).toContain('预计数小时内住户室温将低于标准（尚未发生）');
    expect(zh).toContain('预计12-02 13:00前后低于18°C');
    expect(zh).not.toContain('{');
    const en = renderOrderText(t, 'en', enTime)!;
    expect(en).toMatch(/^Forecast: a home expected to fall below the standard within hours \(not yet\), expected below 18 °C around at /);
    expect(en).not.toMatch(/[\u4e00-\u9fff]/); // no Chinese for an English reader (no address given here)
  });

  it('drops the part around a missing place, and renders the outage follow-up in both languages', () => {
    const noWhere = renderOrderText(proactiveText({ kind: 'station_fault', cause: 'station', startTs: T }, undefined, 18), 'zh-CN', zhTime);
    expect(noWhere).toBe(
      '系统监测发现：换热站设备故障，自12-02 08:00起。初步判断：小区换热站设备故障。请尽快派单处理，并电话告知受影响的用户。',
    );
    const f = outageFollowUpText({ startsAt: T, endsAt: T + 4 * 3_600_000, reason: '换热器清洗' }, '和平里换热站');
    expect(renderOrderText(f, 'zh-CN', zhTime)).toBe(
      '计划停热（12-02 08:00至12-02 12:00，换热器清洗）已结束：请对和平里换热站逐户核查供热已恢复，并告知用户。',
    );
    expect(renderOrderText(f, 'en', enTime)).toContain('please check home by home at 和平里换热站 that heating is back');
  });

  it('an unknown key renders as undefined (the caller shows the stored content)', () => {
    expect(renderOrderText({ key: 'from_a_newer_server', params: {} }, 'en', enTime)).toBeUndefined();
  });
});
