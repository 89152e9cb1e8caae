/**
 * The heating policy: every number of the service norms (../shared/reference/heating-norms.md,
 * rules N1…N34) lives here, once, with its unit in the name. Code cites the rule id; nothing
 * else in the code base hard-codes these values.
 *
 * Per-city differences (N3 design temperature, N31 instrument error, N34 refund bands) are
 * expressed as overrides applied with `policyForCity()`.
 */

/** A calendar day within a year, month 1–12. */
export interface MonthDay {
  readonly month: number;
  readonly day: number;
}

/** N34: one refund band. A shortfall of `minShortfallC < s <= maxShortfallC` below the standard refunds `refundPct` per room per day. */
export interface RefundBand {
  readonly minShortfallC: number;
  readonly maxShortfallC: number;
  readonly refundPct: number;
}

/** N21: escalation ladder, hours since the order was received → who is told. */
export type EscalationLevel = 'station_head' | 'company_manager' | 'deputy_gm' | 'general_manager';

export interface EscalationStep {
  readonly afterHours: number;
  readonly level: EscalationLevel;
}

export interface HeatingPolicy {
  readonly city: string;
  /** IANA time zone the city's calendar and callback hours (N12) are read in. */
  readonly timeZone: string;
  /** UTC offset in minutes for the zone (China has no DST; keeps domain free of Intl lookups). */
  readonly utcOffsetMinutes: number;

  season: {
    /** N1: season starts 15 Nov … */
    readonly start: MonthDay;
    /** N1: … and ends 20 Mar of the next year (inclusive). */
    readonly end: MonthDay;
    /** N1: one-off extensions by decree, ISO dates (local), inclusive ranges. */
    readonly extensions: readonly { readonly from: string; readonly to: string; readonly reason: string }[];
  };

  comfort: {
    /** N2: indoor standard in bedrooms and the living room, °C. */
    readonly standardC: number;
    /** N3: city design outdoor temperature (GB 50736-2012 Annex A); colder days are exempt, °C. */
    readonly designOutdoorC: number;
    /** Rules engine: apartment value below the standard for this long opens a cold incident (event time). */
    readonly coldOpenAfterMin: number;
    /** Hysteresis: value must be >= this to count towards resolving, °C. */
    readonly resolveAtC: number;
    /** …for this long, minutes. */
    readonly resolveAfterMin: number;
    /** Room types that count towards the apartment value (N2, N32). */
    readonly countedRoomTypes: readonly RoomTypeName[];
  };

  sensors: {
    /** Default room-sensor reporting interval, minutes (heating-norms §F: 10–60 min). */
    readonly defaultIntervalMin: number;
    /** A sensor silent for this many intervals is offline. */
    readonly offlineAfterIntervals: number;
    /** Battery voltage below which a sensor is low, V. */
    readonly lowBatteryV: number;
    /** Identical value for this long → stuck sensor, hours. */
    readonly stuckAfterHours: number;
    /** Window-open pattern: a drop of at least this much … °C */
    readonly windowDropC: number;
    /** … within this many minutes … */
    readonly windowDropWithinMin: number;
    /** … followed by recovery within this many minutes suppresses the shortfall. */
    readonly windowRecoverWithinMin: number;
    /** Room readings above this are implausible for a heated room (heat source, sun), °C. */
    readonly implausibleHighC: number;
    /** Window-open pattern: the room counts as recovered once back within this of its pre-drop value, °C (heating-norms §E.5). */
    readonly windowRecoverToWithinC: number;
    /** A low-battery incident clears only at or above this voltage (hysteresis: a new battery), V. */
    readonly lowBatteryClearV: number;
  };

  validation: {
    /** Room sensor range, °C. */
    readonly roomTempMinC: number;
    readonly roomTempMaxC: number;
    /** Readings more than this far in the future are rejected, minutes. */
    readonly maxFutureSkewMin: number;
    /** Backlog older than this is rejected, hours. */
    readonly maxBacklogHours: number;
    /** Largest array a device may publish at once (a sensor's backlog). */
    readonly maxBatchReadings: number;
  };

  grouping: {
    /** Share of a building's monitored apartments cold at once → one building incident. */
    readonly buildingColdShare: number;
    /** Share of a station's monitored apartments cold at once → one station incident. */
    readonly stationColdShare: number;
    /** Share of a heat source's stations in trouble → one source incident. */
    readonly sourceStationShare: number;
    /** Minimum monitored apartments before a share means anything. */
    readonly minMonitored: number;
    /** Minimum metered stations on a source (or branch) before a share means anything (heating-norms §E.1). */
    readonly minSourceStations: number;
    /** Hysteresis: a group incident resolves once its share falls below (open share × this). */
    readonly resolveShareRatio: number;
  };

  station: {
    /** Secondary supply below heating-curve setpoint by more than this, °C. */
    readonly curveToleranceC: number;
    /** Heating curve: secondary supply setpoint at outdoor +5 °C and at design outdoor temp, °C (radiators often ~55/45 run). */
    readonly curveSupplyAtPlus5C: number;
    readonly curveSupplyAtDesignC: number;
    /** Floor-heating stations run a lower curve (heating-norms §D: 35–45 °C), same two anchor points, °C. */
    readonly curveFloorSupplyAtPlus5C: number;
    readonly curveFloorSupplyAtDesignC: number;
    /** Primary ΔT below this with valve wide open → fouled exchanger/strainer, °C. */
    readonly lowPrimaryDeltaC: number;
    /** Valve opening counted as "fully open", %. */
    readonly valveFullyOpenPct: number;
    /** Make-up flow above this is a surge (leak), m³/h. */
    readonly makeupSurgeM3h: number;
    /** Secondary pressure drop (supply) below this, MPa. */
    readonly lowSecondaryPressureMPa: number;
    /** Pump frequency below this = stopped, Hz. */
    readonly pumpStoppedHz: number;
    /** Meter silent this long → station silent, minutes. */
    readonly silentAfterMin: number;
    /** Design primary supply/return, °C (CJJ 34: 130/60). */
    readonly designPrimarySupplyC: number;
    readonly designPrimaryReturnC: number;
    /** A station fault condition must hold this long (event time) before a station_fault opens, minutes. */
    readonly faultConfirmMin: number;
  };

  service: {
    /** N6: on-site within one hour of dispatch (when no visit was agreed). */
    readonly onSiteWithinMin: number;
    /** N6, seed ch.2 §13: with an agreed appointment the worker aims to arrive this early, minutes. */
    readonly arriveBeforeAppointmentMin: number;
    /** N7: service satisfaction target (share of ratings >= 4 of 5). */
    readonly satisfactionTarget: number;
    /** N8: restored within 24 h where the heat source is not the cause. */
    readonly restoreWithinHours: number;
    /** N9: planned outages announced this far ahead. */
    readonly outageNoticeHours: number;
    /** N9: after an outage ends, cold that started up to this long after it is still the outage's (rooms take hours to warm up, heating-norms §E). */
    readonly outageRecoveryHours: number;
    /** N10: every complaint answered within 24 h. */
    readonly answerWithinHours: number;
    /** N12: callbacks only between these local hours … */
    readonly callbackEarliestHour: number;
    readonly callbackLatestHour: number;
    /** … and never in these local windows (meals, nap), "HH:MM"–"HH:MM". */
    readonly callbackQuietWindows: readonly { readonly from: string; readonly to: string }[];
    /** N21: escalation at 24/48/72/96 h unresolved. */
    readonly escalation: readonly EscalationStep[];
    /** N22: callback rate target for repair orders. */
    readonly callbackRateTarget: number;
    /** A satisfaction score at or above this counts as satisfied (1–5). */
    readonly satisfiedScore: number;
  };

  measurement: {
    /** N30: points per room by floor area, m². */
    readonly pointsByArea: readonly { readonly belowM2: number; readonly points: number }[];
    /** N30: rooms at or above the last threshold take this many points (quincunx). */
    readonly pointsLargeRoom: number;
    /** N31: measuring height range, m. */
    readonly heightMinM: number;
    readonly heightMaxM: number;
    /** N31: distance from walls and heat sources, m. */
    readonly minWallDistanceM: number;
    /** N31: doors and windows closed beforehand, minutes. */
    readonly closedBeforeMin: number;
    /** N31: instrument error bound, °C. */
    readonly instrumentErrorC: number;
    /** N33: a record without the resident's signature is invalid. */
    readonly signatureRequired: boolean;
    /** N34: refund bands, empty where the city pays no refunds. */
    readonly refundBands: readonly RefundBand[];
    /** N34: refunds apply once a shortfall stayed unresolved this long. */
    readonly refundAfterHours: number;
  };
}

export type RoomTypeName = 'bedroom' | 'living' | 'kitchen' | 'bathroom' | 'study' | 'other';

/** The national defaults (Beijing values for N3). */
export const defaultPolicy: HeatingPolicy = Object.freeze<HeatingPolicy>({
  city: 'beijing',
  timeZone: 'Asia/Shanghai',
  utcOffsetMinutes: 480,
  season: {
    start: { month: 11, day: 15 }, // N1
    end: { month: 3, day: 20 }, // N1
    extensions: [],
  },
  comfort: {
    standardC: 18, // N2
    designOutdoorC: -7.6, // N3: Beijing, GB 50736-2012 Annex A
    coldOpenAfterMin: 60,
    resolveAtC: 18.3,
    resolveAfterMin: 30,
    countedRoomTypes: ['bedroom', 'living'], // N2, N32
  },
  sensors: {
    defaultIntervalMin: 10,
    offlineAfterIntervals: 3,
    lowBatteryV: 2.6,
    stuckAfterHours: 12,
    windowDropC: 3,
    windowDropWithinMin: 30,
    windowRecoverWithinMin: 120,
    implausibleHighC: 32,
    windowRecoverToWithinC: 1,
    lowBatteryClearV: 2.8,
  },
  validation: {
    roomTempMinC: -40,
    roomTempMaxC: 60,
    maxFutureSkewMin: 5,
    maxBacklogHours: 24 * 30,
    maxBatchReadings: 1000,
  },
  grouping: {
    buildingColdShare: 0.3,
    stationColdShare: 0.3,
    sourceStationShare: 0.5,
    minMonitored: 3,
    minSourceStations: 2,
    resolveShareRatio: 0.5,
  },
  station: {
    curveToleranceC: 3,
    curveSupplyAtPlus5C: 45,
    curveSupplyAtDesignC: 60,
    curveFloorSupplyAtPlus5C: 35, // heating-norms §D: floor heating 35–45 °C
    curveFloorSupplyAtDesignC: 45,
    lowPrimaryDeltaC: 15,
    valveFullyOpenPct: 95,
    makeupSurgeM3h: 2,
    lowSecondaryPressureMPa: 0.2,
    pumpStoppedHz: 5,
    silentAfterMin: 30,
    designPrimarySupplyC: 130, // CJJ 34
    designPrimaryReturnC: 60,
    faultConfirmMin: 10,
  },
  service: {
    onSiteWithinMin: 60, // N6
    arriveBeforeAppointmentMin: 10, // N6, seed ch.2 §13
    satisfactionTarget: 0.98, // N7
    restoreWithinHours: 24, // N8
    outageNoticeHours: 48, // N9
    outageRecoveryHours: 6, // N9, heating-norms §E: rooms fall 2.5–4 h after a stop and recover as slowly
    answerWithinHours: 24, // N10
    callbackEarliestHour: 7, // N12
    callbackLatestHour: 22, // N12
    callbackQuietWindows: [
      { from: '11:30', to: '13:30' }, // N12: lunch and nap
      { from: '17:30', to: '19:00' }, // N12: dinner
    ],
    escalation: [
      { afterHours: 24, level: 'station_head' }, // N21
      { afterHours: 48, level: 'company_manager' }, // N21
      { afterHours: 72, level: 'deputy_gm' }, // N21
      { afterHours: 96, level: 'general_manager' }, // N21
    ],
    callbackRateTarget: 0.9, // N22
    satisfiedScore: 4,
  },
  measurement: {
    pointsByArea: [
      { belowM2: 16, points: 1 }, // N30
      { belowM2: 30, points: 2 }, // N30
      { belowM2: 60, points: 3 }, // N30
    ],
    pointsLargeRoom: 5, // N30: quincunx
    heightMinM: 0.8, // N31
    heightMaxM: 1.6, // N31
    minWallDistanceM: 0.5, // N31
    closedBeforeMin: 30, // N31 (Yantai)
    instrumentErrorC: 0.5, // N31
    signatureRequired: true, // N33
    refundBands: [],
    refundAfterHours: 24, // N34
  },
});

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Per-city overrides of the national defaults. */
export const cityOverrides: Readonly<Record<string, DeepPartial<HeatingPolicy>>> = Object.freeze({
  beijing: {},
  tianjin: {
    city: 'tianjin',
    comfort: { designOutdoorC: -7.0 }, // N3
    measurement: {
      heightMinM: 1.1, // N31: Tianjin 1.2 ± 0.1 m
      heightMaxM: 1.3,
      instrumentErrorC: 0.3, // N31: Tianjin
      refundBands: [
        { minShortfallC: 0, maxShortfallC: 2, refundPct: 10 }, // N34 Tianjin
        { minShortfallC: 2, maxShortfallC: 6, refundPct: 50 },
        { minShortfallC: 6, maxShortfallC: Number.POSITIVE_INFINITY, refundPct: 100 },
      ],
    },
  },
  harbin: {
    city: 'harbin',
    comfort: { standardC: 20, resolveAtC: 20.3, designOutdoorC: -24.2 }, // N2 Heilongjiang 20 °C; N3
    season: { start: { month: 10, day: 20 }, end: { month: 4, day: 20 }, extensions: [] }, // N1: Harbin decree season
    measurement: {
      refundBands: [
        { minShortfallC: 0, maxShortfallC: 2, refundPct: 10 }, // N34 Heilongjiang 18–20
        { minShortfallC: 2, maxShortfallC: 4, refundPct: 30 }, // 16–18
        { minShortfallC: 4, maxShortfallC: 6, refundPct: 50 }, // 14–16
        { minShortfallC: 6, maxShortfallC: Number.POSITIVE_INFINITY, refundPct: 100 }, // <14
      ],
    },
  },
  qingdao: { city: 'qingdao', measurement: { instrumentErrorC: 0.3 } }, // N31 Qingdao
});

function merge<T>(base: T, over: DeepPartial<T> | undefined): T {
  if (!over) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = (base as Record<string, unknown>)[k];
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' ? merge(b, v as never) : v;
  }
  return out as T;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The policy of one city: national defaults with that city's overrides, plus any extra (e.g. a decree). */
export function policyForCity(city: string, extra?: DeepPartial<HeatingPolicy>): HeatingPolicy {
  // An unknown city must not fall back to the national defaults silently (domain/config.ts checks CITY first).
  if (!Object.hasOwn(cityOverrides, city))
    throw new Error(`unknown city ${JSON.stringify(city)} (known: ${Object.keys(cityOverrides).join(', ')})`);
  return deepFreeze(merge(merge(defaultPolicy, cityOverrides[city]), extra));
}
