/** English, merged from en/<area>.ts; typed against the zh-CN keys so a missing key fails type-checking as well as the i18n test. */
import { common } from './en/common.ts';
import { orders } from './en/orders.ts';
import { incidents } from './en/incidents.ts';
import { map } from './en/map.ts';
import { forecast } from './en/forecast.ts';
import type { MessageKey } from './zh-CN.ts';

export const en: Record<MessageKey, string> = { ...common, ...orders, ...incidents, ...map, ...forecast };
