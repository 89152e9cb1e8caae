/**
 * Room-temperature measurement (测温), N30–N34, pure. A record lists each room with its
 * measured points; the result is the room values, the apartment value, a verdict and the
 * refund the city's policy grants (N34).
 */
import type { HeatingPolicy, RoomTypeName } from './policy.ts';

export interface MeasurementPoint {
  readonly tempC: number;
  /** N31: height above the floor, m. */
  readonly heightM: number;
  /** N31: distance from walls and heat sources, m. */
  readonly wallDistanceM: number;
}

export interface MeasuredRoom {
  readonly roomId: string;
  readonly type: RoomTypeName;
  readonly areaM2: number;
  readonly points: readonly MeasurementPoint[];
}

export interface MeasurementRecord {
  readonly measuredAt: number;
  readonly rooms: readonly MeasuredRoom[];
  /** N33: the resident's signature; without it the record is invalid. */
  readonly residentSigned: boolean;
  /** N31: doors and windows closed this long before measuring, minutes. */
  readonly closedBeforeMin: number;
  readonly outdoorTempC?: number;
  /** N34: no refund where the resident altered the system or covered radiators. */
  readonly residentAltered?: boolean;
  readonly measuredBy: string;
  /** N31: the instrument's stated error, °C; above the city's bound the record is invalid. */
  readonly instrumentErrorC: number;
}

export interface RoomResult {
  readonly roomId: string;
  readonly type: RoomTypeName;
  readonly valueC: number;
  readonly counted: boolean;
  readonly shortfallC: number;
  /** N34: refund share of this room's fee per day, %. */
  readonly refundPct: number;
}

export type Verdict = 'compliant' | 'below_standard' | 'invalid';

export interface MeasurementResult {
  readonly verdict: Verdict;
  /** Why a record is invalid (N30, N31, N33). */
  readonly problems: readonly string[];
  readonly rooms: readonly RoomResult[];
  /** N32: area-weighted mean of the counted rooms, °C (null when none counted). */
  readonly apartmentValueC: number | null;
  /** N34: refund per day as the mean over counted rooms by area, %. */
  readonly refundPctPerDay: number;
  /** N3: the outdoor temperature was below design: shortfall recorded but exempt. */
  readonly exempt: boolean;
}

/** N30: how many points a room of this area needs. */
export function pointsForRoom(
  areaM2: number,
  policy: { readonly measurement: Pick<HeatingPolicy['measurement'], 'pointsByArea' | 'pointsLargeRoom'> },
): number {
  for (const band of policy.measurement.pointsByArea) if (areaM2 < band.belowM2) return band.points;
  return policy.measurement.pointsLargeRoom;
}

/** N32: room value = mean of its points. */
export function roomValue(points: readonly MeasurementPoint[]): number {
  if (!points.length) return Number.NaN;
  return points.reduce((s, p) => s + p.tempC, 0) / points.length;
}

/** N32: apartment value = area-weighted mean of the counted rooms (bedrooms, living room). */
export function apartmentValue(
  rooms: readonly { type: RoomTypeName; areaM2: number; valueC: number }[],
  policy: HeatingPolicy,
): number | null {
  const counted = rooms.filter((r) => policy.comfort.countedRoomTypes.includes(r.type) && Number.isFinite(r.valueC));
  const area = counted.reduce((s, r) => s + r.areaM2, 0);
  if (!counted.length || area <= 0) return null;
  return counted.reduce((s, r) => s + r.valueC * r.areaM2, 0) / area;
}

/** N34: the refund band for a shortfall below the standard, % (0 where the city pays none). */
export function refundPctFor(shortfallC: number, policy: HeatingPolicy): number {
  if (shortfallC <= 0) return 0;
  const band = policy.measurement.refundBands.find((b) => shortfallC > b.minShortfallC && shortfallC <= b.maxShortfallC);
  return band?.refundPct ?? 0;
}

/** Problems with the method (N30, N31, N33); an empty list means the record is valid. */
export function checkRecord(rec: MeasurementRecord, policy: HeatingPolicy): string[] {
  const m = policy.measurement;
  const problems: string[] = [];
  if (m.signatureRequired && !rec.residentSigned) problems.push('N33: no resident signature');
  if (!rec.rooms.length) problems.push('no rooms measured');
  if (rec.instrumentErrorC > m.instrumentErrorC)
    problems.push(`N31: instrument error ±${rec.instrumentErrorC} °C exceeds ±${m.instrumentErrorC} °C`);
  if (rec.closedBeforeMin < m.closedBeforeMin) problems.push(`N31: doors and windows closed only ${rec.closedBeforeMin} min before`);
  for (const r of rec.rooms) {
    const need = pointsForRoom(r.areaM2, policy);
    if (r.points.length !== need) problems.push(`N30: room ${r.roomId} (${r.areaM2} m²) needs ${need} points, has ${r.points.length}`);
    r.points.forEach((p, i) => {
      if (p.heightM < m.heightMinM || p.heightM > m.heightMaxM) problems.push(`N31: room ${r.roomId} point ${i + 1} at ${p.heightM} m`);
      if (p.wallDistanceM < m.minWallDistanceM) problems.push(`N31: room ${r.roomId} point ${i + 1} ${p.wallDistanceM} m from a wall`);
    });
  }
  return problems;
}

/**
 * Evaluate a record. N2 holds room by room (each bedroom and the living room); N32's
 * area-weighted mean is the reported apartment value. N31's instrument error bounds the
 * instrument, it is not a pass tolerance: 17.6 °C against an 18 °C standard is a shortfall.
 * The refund band (N34) is the record's; whether and how long it is paid is the order's
 * (`refundDays`): it accrues once the shortfall is unresolved for refundAfterHours and stops
 * when heat is restored.
 */
export function evaluateMeasurement(rec: MeasurementRecord, policy: HeatingPolicy): MeasurementResult {
  const problems = checkRecord(rec, policy);
  const std = policy.comfort.standardC;
  const exempt = rec.outdoorTempC !== undefined && rec.outdoorTempC < policy.comfort.designOutdoorC; // N3
  const refundable = !rec.residentAltered && !exempt; // N34
  const rooms: RoomResult[] = rec.rooms.map((r) => {
    const valueC = round1(roomValue(r.points));
    const counted = policy.comfort.countedRoomTypes.includes(r.type);
    const shortfallC = counted && valueC < std ? round1(std - valueC) : 0; // N2 per room, N31
    return { roomId: r.roomId, type: r.type, valueC, counted, shortfallC, refundPct: refundable ? refundPctFor(shortfallC, policy) : 0 };
  });
  const value = apartmentValue(
    rec.rooms.map((r) => ({ type: r.type, areaM2: r.areaM2, valueC: roomValue(r.points) })),
    policy,
  );
  const countedRooms = rec.rooms.filter((r) => policy.comfort.countedRoomTypes.includes(r.type));
  const area = countedRooms.reduce((s, r) => s + r.areaM2, 0);
  const refundPctPerDay =
    area > 0 ? round1(rooms.filter((r) => r.counted).reduce((s, r, i) => s + r.refundPct * countedRooms[i]!.areaM2, 0) / area) : 0;
  if (problems.length)
    return { verdict: 'invalid', problems, rooms, apartmentValueC: value === null ? null : round1(value), refundPctPerDay: 0, exempt };
  const below = rooms.some((r) => r.shortfallC > 0);
  return {
    verdict: below ? 'below_standard' : 'compliant',
    problems,
    rooms,
    apartmentValueC: value === null ? null : round1(value),
    refundPctPerDay: below ? refundPctPerDay : 0,
    exempt,
  };
}

/**
 * N34: refund days owed at `now` — whole or begun days from `accruesFromAt` (24 h after the
 * request) until heat was restored (or now, while it still is not).
 */
export function refundDays(refund: { readonly accruesFromAt: number; readonly restoredAt?: number }, now: number): number {
  const end = refund.restoredAt ?? now;
  return end <= refund.accruesFromAt ? 0 : Math.ceil((end - refund.accruesFromAt) / 86_400_000);
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
