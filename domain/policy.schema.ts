/**
 * The heating policy as the API serves it (GET /api/v1/policy): one TypeBox schema mirroring
 * `HeatingPolicy` (domain/policy.ts, where each number cites its norm). The schema is the
 * response contract and the source of the dashboard's generated type; policy.schema.test.ts
 * checks it against the interface field by field and against every city's policy.
 */
import Type, { type Static } from 'typebox';
import { ListOf } from './list.schema.ts';

const MonthDaySchema = Type.Object({ month: Type.Integer({ minimum: 1, maximum: 12 }), day: Type.Integer({ minimum: 1, maximum: 31 }) });

export const EscalationLevelSchema = Type.Enum(['station_head', 'company_manager', 'deputy_gm', 'general_manager']);
export type EscalationLevelName = Static<typeof EscalationLevelSchema>;

const RoomTypeNameSchema = Type.Enum(['bedroom', 'living', 'kitchen', 'bathroom', 'study', 'other']);

/** N34: an unbounded band (`maxShortfallC: Infinity`) is sent as null: JSON has no Infinity. */
const RefundBandSchema = Type.Object({
  minShortfallC: Type.Number(),
  maxShortfallC: Type.Union([Type.Number(), Type.Null()], { description: 'null: no upper bound' }),
  refundPct: Type.Number(),
});

const n = Type.Number();

export const HeatingPolicySchema = Type.Object({
  city: Type.String(),
  timeZone: Type.String(),
  utcOffsetMinutes: Type.Integer(),
  season: Type.Object({
    start: MonthDaySchema,
    end: MonthDaySchema,
    extensions: ListOf(Type.Object({ from: Type.String(), to: Type.String(), reason: Type.String() })),
  }),
  comfort: Type.Object({
    standardC: n,
    designOutdoorC: n,
    coldOpenAfterMin: n,
    resolveAtC: n,
    resolveAfterMin: n,
    countedRoomTypes: ListOf(RoomTypeNameSchema),
  }),
  sensors: Type.Object({
    defaultIntervalMin: n,
    offlineAfterIntervals: n,
    lowBatteryV: n,
    stuckAfterHours: n,
    windowDropC: n,
    windowDropWithinMin: n,
    windowRecoverWithinMin: n,
    implausibleHighC: n,
    windowRecoverToWithinC: n,
    lowBatteryClearV: n,
  }),
  validation: Type.Object({ roomTempMinC: n, roomTempMaxC: n, maxFutureSkewMin: n, maxBacklogHours: n, maxBatchReadings: n }),
  grouping: Type.Object({
    buildingColdShare: n,
    stationColdShare: n,
    sourceStationShare: n,
    minMonitored: n,
    minSourceStations: n,
    resolveShareRatio: n,
  }),
  station: Type.Object({
    curveToleranceC: n,
    curveSupplyAtPlus5C: n,
    curveSupplyAtDesignC: n,
    curveFloorSupplyAtPlus5C: n,
    curveFloorSupplyAtDesignC: n,
    lowPrimaryDeltaC: n,
    valveFullyOpenPct: n,
    makeupSurgeM3h: n,
    lowSecondaryPressureMPa: n,
    pumpStoppedHz: n,
    silentAfterMin: n,
    designPrimarySupplyC: n,
    designPrimaryReturnC: n,
    faultConfirmMin: n,
  }),
  service: Type.Object({
    onSiteWithinMin: n,
    arriveBeforeAppointmentMin: n,
    satisfactionTarget: n,
    restoreWithinHours: n,
    outageNoticeHours: n,
    outageRecoveryHours: n,
    answerWithinHours: n,
    callbackEarliestHour: n,
    callbackLatestHour: n,
    callbackQuietWindows: ListOf(Type.Object({ from: Type.String(), to: Type.String() })),
    escalation: ListOf(Type.Object({ afterHours: n, level: EscalationLevelSchema })),
    callbackRateTarget: n,
    satisfiedScore: n,
  }),
  measurement: Type.Object({
    pointsByArea: ListOf(Type.Object({ belowM2: n, points: Type.Integer() })),
    pointsLargeRoom: Type.Integer(),
    heightMinM: n,
    heightMaxM: n,
    minWallDistanceM: n,
    closedBeforeMin: n,
    instrumentErrorC: n,
    signatureRequired: Type.Boolean(),
    refundBands: ListOf(RefundBandSchema),
    refundAfterHours: n,
  }),
});
/** The policy as JSON carries it (unbounded refund bands as null). */
export type HeatingPolicyDto = Static<typeof HeatingPolicySchema>;
