/**
 * The WHERE clause of a list query from the filters a caller set, for every SQLite
 * repository (records.db, readings.db): one place that turns "this filter is set" into a
 * bound parameter, so no list query splices a value into its SQL.
 */

/**
 * A condition with one `?` and its value, or a condition without a parameter and `true`.
 * Left out when the value is `undefined`, `''` or `false` (the filter is not set).
 */
export type Filter = readonly [condition: string, value: unknown];

export interface Where {
  /** ` WHERE a = ? AND b = ?`, or '' when no filter is set. */
  readonly sql: string;
  readonly args: unknown[];
}

export function whereOf(filters: readonly Filter[]): Where {
  const parts: string[] = [];
  const args: unknown[] = [];
  for (const [condition, value] of filters) {
    if (value === undefined || value === '' || value === false) continue;
    parts.push(condition);
    if (value !== true) args.push(value);
  }
  return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', args };
}
