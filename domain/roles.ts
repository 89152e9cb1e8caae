/**
 * Who people are, once (issue #15): the role list as a TypeBox schema, the type derived from
 * it, and the groups routes and the dashboard use. The N21 ladder names four different
 * people: the office's 所长 (station_head), 公司经理 (manager), 分管经理 (deputy_gm) and
 * 总经理 (general_manager).
 */
import Type, { type Static } from 'typebox';

export const ROLES = [
  'admin',
  'dispatcher',
  'station_staff',
  'station_head',
  'manager',
  'deputy_gm',
  'general_manager',
  'engineer',
  'resident',
] as const;
export const RoleSchema = Type.Enum(ROLES);
export type Role = Static<typeof RoleSchema>;

/** Everyone but residents. */
export const STAFF_ROLES: readonly Role[] = ROLES.filter((r) => r !== 'resident');
export const ALL_ROLES: readonly Role[] = ROLES;
/** Company management: the upper three rungs of N21; they read KPIs and every order. */
export const MANAGEMENT_ROLES: readonly Role[] = ['manager', 'deputy_gm', 'general_manager'];
/** Roles bound to one office's grid (N5): they see only that office's orders. */
export const OFFICE_ROLES: readonly Role[] = ['station_staff', 'station_head'];
/** N9: who may announce a planned outage (POST /outages); the dashboard shows the form to them only. */
export const OUTAGE_ANNOUNCER_ROLES: readonly Role[] = ['admin', 'dispatcher', 'station_head', 'manager'];
