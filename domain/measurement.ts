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
export function pointsForRoom(areaM2: number, policy: HeatingPolicy): number {
  for (const band of policy.measurement.pointsByArea) if (areaM2 < band.belowM2) return band.points;
  return policy.measurement.pointsLargeRoom;
}

/** N32: room value = mean of its points. */
export function roomValue(points: readonly MeasurementPoint[]): number {
  if (!points.length) return Number.NaN;
  return points.reduce((s, p) => s + p.tempC, 0) / points.length;
}

/** N32: apartment value = area-weighted mean of the counted rooms (bedrooms, living room). */
export function apartmentValue(rooms: readonly { type: RoomTypeName; areaM2: number; valueC: number }[], policy: HeatingPolicy): number | null {
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
 * Evaluate a record. A shortfall within the instrument error (N31) is not a shortfall: the
 * resident gets the benefit of the doubt only beyond it, and vice versa. `unresolvedHours`
 * is how long the shortfall has been open (N34 refunds only after refundAfterHours).
 */
export function evaluateMeasurement(rec: MeasurementRecord, policy: HeatingPolicy, unresolvedHours = 0): MeasurementResult {
  const problems = checkRecord(rec, policy);
  const std = policy.comfort.standardC;
  const err = policy.measurement.instrumentErrorC;
  const refundable = !rec.residentAltered && unresolvedHours >= policy.measurement.refundAfterHours; // N34
  const exempt = rec.outdoorTempC !== undefined && rec.outdoorTempC < policy.comfort.designOutdoorC; // N3
  const rooms: RoomResult[] = rec.rooms.map((r) => {
    const valueC = roomValue(r.points);
    const counted = policy.comfort.countedRoomTypes.includes(r.type);
    const raw = std - valueC;
    const shortfallC = counted && raw > err ? round1(raw) : 0;
    return { roomId: r.roomId, type: r.type, valueC: round1(valueC), counted, shortfallC, refundPct: refundable && !exempt ? refundPctFor(shortfallC, policy) : 0 };
  });
  const value = apartmentValue(
    rec.rooms.map((r) => ({ type: r.type, areaM2: r.areaM2, valueC: roomValue(r.points) })),
    policy,
  );
  const countedRooms = rec.rooms.filter((r) => policy.comfort.countedRoomTypes.includes(r.type));
  const area = countedRooms.reduce((s, r) => s + r.areaM2, 0);
  const refundPctPerDay =
    area > 0 ? round1(rooms.filter((r) => r.counted).reduce((s, r, i) => s + r.refundPct * countedRooms[i]!.areaM2, 0) / area) : 0;
  if (problems.length) return { verdict: 'invalid', problems, rooms, apartmentValueC: value === null ? null : round1(value), refundPctPerDay: 0, exempt };
  const below = rooms.some((r) => r.shortfallC > 0);
  return { verdict: below ? 'below_standard' : 'compliant', problems, rooms, apartmentValueC: value === null ? null : round1(value), refundPctPerDay: below ? refundPctPerDay : 0, exempt };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
