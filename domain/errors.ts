/**
 * Coded errors (CONVENTIONS.md #7): every error the API returns carries a stable
 * `HEAT_ERR_*` code and an HTTP status. docs/errors.md documents each code; a test checks
 * that none is missing. Messages are for people and never carry internals.
 */

export const errorCatalogue = {
  HEAT_ERR_VALIDATION: { status: 400, message: 'The request is invalid' },
  HEAT_ERR_WEAK_PASSWORD: { status: 400, message: 'The password does not meet the policy' },
  HEAT_ERR_UNAUTHENTICATED: { status: 401, message: 'Sign in first' },
  HEAT_ERR_BAD_CREDENTIALS: { status: 401, message: 'Wrong username or password' },
  HEAT_ERR_FORBIDDEN: { status: 403, message: 'Your role may not do this' },
  HEAT_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  HEAT_ERR_CONFLICT: { status: 409, message: 'Conflicts with the current state' },
  HEAT_ERR_ORDER_TRANSITION: { status: 409, message: 'The order cannot make this step from its current status' },
  HEAT_ERR_APPOINTMENT_PAST: { status: 422, message: 'An appointment must lie in the future (N6, N25)' },
  HEAT_ERR_CALLBACK_QUIET_HOURS: { status: 409, message: 'Callbacks are not made at this hour (N12)' },
  HEAT_ERR_REPAIR_SHEET_REQUIRED: { status: 422, message: 'A repair sheet is required to resolve a repair order (N23)' },
  HEAT_ERR_EXPLANATION_REQUIRED: { status: 422, message: 'A written explanation is required when the cause is in the home (N24)' },
  HEAT_ERR_MEASUREMENT_REQUIRED: { status: 422, message: 'A measurement order is resolved with a measurement record' },
  HEAT_ERR_MEASUREMENT_UNSIGNED: { status: 422, message: 'A measurement record without the resident signature is invalid (N33)' },
  HEAT_ERR_MEASUREMENT_POINTS: { status: 422, message: 'The measurement points do not follow the method (N30/N31)' },
  HEAT_ERR_OUTAGE_NOTICE: { status: 422, message: 'Planned outages must be announced ahead (N9)' },
  HEAT_ERR_IMPORT_INVALID: { status: 422, message: 'The import has invalid rows; nothing was imported' },
  HEAT_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  HEAT_ERR_UNSUPPORTED_MEDIA: { status: 415, message: 'Unsupported content type' },
  HEAT_ERR_RATE_LIMITED: { status: 429, message: 'Too many attempts; try again later' },
  HEAT_ERR_UNAVAILABLE: { status: 503, message: 'A dependency is unavailable' },
  HEAT_ERR_RECORDS_UNAVAILABLE: { status: 503, message: 'The records database cannot be written now; nothing was saved, try again later' },
  HEAT_ERR_INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** An error with a catalogue code; `details` go to the client (field names, report rows), never internals. */
export class HeatError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;
  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? errorCatalogue[code].message);
    this.name = 'HeatError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.details = details;
  }
}

export function isHeatError(e: unknown): e is HeatError {
  return e instanceof HeatError;
}
