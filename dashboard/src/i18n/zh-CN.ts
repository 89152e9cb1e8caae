/**
 * 简体中文 (default). Every UI string lives in zh-CN/<area>.ts and en/<area>.ts with the same
 * keys (type-checked per area, and by the i18n test); this file merges the areas.
 */
import { common } from './zh-CN/common.ts';
import { orders } from './zh-CN/orders.ts';
import { incidents } from './zh-CN/incidents.ts';
import { map } from './zh-CN/map.ts';
import { forecast } from './zh-CN/forecast.ts';

export const zhCN = { ...common, ...orders, ...incidents, ...map, ...forecast } as const;

export type MessageKey = keyof typeof zhCN;
