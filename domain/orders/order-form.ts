/**
 * N20: the fields of the paper form (派修单), in its order — what the printed copies show
 * (dashboard OrderCopy) and the intake block the CSV export lists. Which fields each copy
 * keeps is the view's (order.schema.ts ORDER_TEAM_FIELDS, orderView).
 */
/** N20: the paper form's (派修单) intake block, 受理单位 … 督办人, as the form prints it and the CSV export lists it. */
export const ORDER_FORM_INTAKE_FIELDS = [
  'receivingOfficeId',
  'receivedAt',
  'receiver',
  'appointmentAt',
  'residentAddress',
  'residentPhone',
  'residentContact',
  'content',
  'issuedAt',
  'assignee',
  'supervisor',
] as const;
/** N20: every field the paper form prints, in its order; a copy prints those its view keeps (orderView). */
export const ORDER_FORM_FIELDS = [
  'number',
  ...ORDER_FORM_INTAKE_FIELDS,
  'onSiteAt',
  'resolvedAt',
  'callbackAt',
  'callbackBy',
  'callbackResult',
  'satisfaction',
  'closedAt',
  'repairSheet',
  'measurement',
] as const;
