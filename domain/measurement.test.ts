import { describe, expect, it } from 'vitest';
import {
  apartmentValue,
  evaluateMeasurement,
  pointsForRoom,
  refundDays,
  refundPctFor,
  roomValue,
  type MeasurementRecord,
} from './measurement.ts';
import { defaultPolicy, policyForCity } from './policy.ts';

const p = (tempC: number, heightM = 1.2, wallDistanceM = 1) => ({ tempC, heightM, wallDistanceM });
const rec = (over: Partial<MeasurementRecord> = {}): MeasurementRecord => ({
  measuredAt: 0,
  closedBeforeMin: 30,
  residentSigned: true,
  measuredBy: 'w',
  instrumentErrorC: 0.3,
  rooms: [
    { roomId: 'r1', type: 'bedroom', areaM2: 12, points: [p(17)] },
    { roomId: 'r2', type: 'living', areaM2: 20, points: [p(17), p(17)] },
    { roomId: 'r3', type: 'kitchen', areaM2: 8, points: [p(12)] },
  ],
  ...over,
});

describe('N30 points per room by area', () => {
  it.each([
    [10, 1],
    [15.9, 1],
    [16, 2],
    [29.9, 2],
    [30, 3],
    [59.9, 3],
    [60, 5],
    [120, 5],
  ])('%d m² → %d points', (area, n) => expect(pointsForRoom(area, defaultPolicy)).toBe(n));
});

describe('N32 room and apartment values', () => {
  it('room value is the mean of its points; the apartment value weights bedrooms and living room by area', () => {
    expect(roomValue([p(17), p(19)])).toBe(18);
    // kitchen excluded: (16·10 + 20·30) / 40 = 19
    expect(
      apartmentValue(
        [
          { type: 'bedroom', areaM2: 10, valueC: 16 },
          { type: 'living', areaM2: 30, valueC: 20 },
          { type: 'kitchen', areaM2: 10, valueC: 5 },
        ],
        defaultPolicy,
      ),
    ).toBe(19);
    expect(apartmentValue([{ type: 'kitchen', areaM2: 10, valueC: 5 }], defaultPolicy)).toBeNull();
  });
});

describe('verdict (N31, N33)', () => {
  it('is invalid without the resident signature (N33)', () => {
    const r = evaluateMeasurement(rec({ residentSigned: false }), defaultPolicy);
    expect(r.verdict).toBe('invalid');
    expect(r.problems.join()).toMatch(/N33/);
    expect(r.refundPctPerDay).toBe(0);
  });

  it('is invalid with the wrong number of points, a bad height or too close to a wall', () => {
    const r = evaluateMeasurement(
      rec({ rooms: [{ roomId: 'r2', type: 'living', areaM2: 20, points: [p(17, 2.0), p(17, 1.2, 0.2), p(17)] }] }),
      defaultPolicy,
    );
    expect(r.verdict).toBe('invalid');
    expect(r.problems.join('\n')).toMatch(/N30.*needs 2 points, has 3/);
    expect(r.problems.join('\n')).toMatch(/N31.*2 m/);
    expect(r.problems.join('\n')).toMatch(/N31.*0.2 m from a wall/);
  });

  it('N31: the instrument error bounds the instrument; it is no pass tolerance (17.6 °C is short of 18 °C)', () => {
    const r = evaluateMeasurement(rec({ rooms: [{ roomId: 'r1', type: 'bedroom', areaM2: 12, points: [p(17.6)] }] }), defaultPolicy);
    expect(r.verdict).toBe('below_standard');
    expect(r.rooms[0]).toMatchObject({ valueC: 17.6, shortfallC: 0.4 });
    expect(
      evaluateMeasurement(rec({ rooms: [{ roomId: 'r1', type: 'bedroom', areaM2: 12, points: [p(18)] }] }), defaultPolicy).verdict,
    ).toBe('compliant');
  });

  it('N31: an instrument worse than the city allows makes the record invalid (Tianjin ±0.3 °C)', () => {
    const r = evaluateMeasurement(rec({ instrumentErrorC: 0.5 }), policyForCity('tianjin'));
    expect(r.verdict).toBe('invalid');
    expect(r.problems.join()).toMatch(/N31: instrument error/);
    expect(evaluateMeasurement(rec({ instrumentErrorC: 0.5 }), defaultPolicy).problems).toEqual([]); // Beijing ±0.5 °C
  });

  it('N2 per room: a cold bedroom behind a warm living room is below standard, N32 mean reported', () => {
    const r = evaluateMeasurement(
      rec({
        rooms: [
          { roomId: 'bed', type: 'bedroom', areaM2: 12, points: [p(15)] },
          { roomId: 'liv', type: 'living', areaM2: 28, points: [p(21), p(21)] },
        ],
      }),
      defaultPolicy,
    );
    expect(r.apartmentValueC).toBe(19.2); // N32: (15·12 + 21·28) / 40 = 19.2 — above 18 °C
    expect(r.verdict).toBe('below_standard'); // N2: the bedroom is 3 °C short
    expect(r.rooms.find((x) => x.roomId === 'bed')).toMatchObject({ shortfallC: 3 });
  });
});

describe('N34 refunds by city bands', () => {
  const tianjin = policyForCity('tianjin');
  const harbin = policyForCity('harbin');

  it('pays nothing where the city has no bands (Beijing)', () => {
    expect(refundPctFor(3, defaultPolicy)).toBe(0);
    expect(evaluateMeasurement(rec(), defaultPolicy).refundPctPerDay).toBe(0);
  });

  it('applies Tianjin bands: ≤2 → 10 %, 2–6 → 50 %, >6 → 100 %', () => {
    expect([1, 2, 2.1, 6, 6.5].map((s) => refundPctFor(s, tianjin))).toEqual([10, 10, 50, 50, 100]);
  });

  it('applies Heilongjiang bands against its 20 °C standard', () => {
    expect([1, 3, 5, 7].map((s) => refundPctFor(s, harbin))).toEqual([10, 30, 50, 100]);
    const r = evaluateMeasurement(rec({ rooms: [{ roomId: 'r1', type: 'bedroom', areaM2: 12, points: [p(17)] }] }), harbin);
    expect(r.rooms[0]).toMatchObject({ shortfallC: 3, refundPct: 30 });
  });

  it('the band is the record’s; never where the resident altered the system', () => {
    expect(evaluateMeasurement(rec(), tianjin).refundPctPerDay).toBe(10); // 1 °C short in both counted rooms
    expect(evaluateMeasurement(rec({ residentAltered: true }), tianjin).refundPctPerDay).toBe(0);
  });

  it('N34: refund days accrue from 24 h after the request until heat is restored, whenever the measurement was made', () => {
    const H = 3_600_000;
    const requested = 0;
    const accruesFromAt = requested + 24 * H;
    // Measured 2 h after the request: nothing owed yet, but days accrue as the shortfall goes on.
    expect(refundDays({ accruesFromAt }, requested + 2 * H)).toBe(0);
    expect(refundDays({ accruesFromAt }, requested + 25 * H)).toBe(1);
    expect(refundDays({ accruesFromAt }, requested + 24 * H + 3 * 24 * H)).toBe(3);
    // Measured 25 h after the request, heat restored on day 4: four begun days, then no more.
    const restored = { accruesFromAt, restoredAt: requested + 24 * H + 3 * 24 * H + H };
    expect(refundDays(restored, requested + 30 * 24 * H)).toBe(4);
    // Restored before the 24 h had run: nothing.
    expect(refundDays({ accruesFromAt, restoredAt: requested + 20 * H }, requested + 40 * H)).toBe(0);
  });

  it('exempts days colder than the design outdoor temperature (N3)', () => {
    const r = evaluateMeasurement(rec({ outdoorTempC: -10 }), tianjin);
    expect(r.exempt).toBe(true);
    expect(r.refundPctPerDay).toBe(0);
  });
});
