/**
 * The journal's record format: what aedes stores (StoredPacket, subscriptions), the compact
 * packet encoding written to disk (EncPacket, payload base64), and one record type per
 * operation (Rec, one JSON array per line, the first element naming the operation).
 */

/** The packet shape aedes stores (aedes-packet's fields; MQTT 5 extras kept opaque). */
export interface StoredPacket {
  cmd: string;
  brokerId?: string;
  brokerCounter?: number;
  topic?: string;
  payload?: Buffer | string;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  messageId?: number;
  clientId?: string;
  nl?: boolean;
  properties?: unknown;
  messageExpiry?: number;
}

export interface SubRecord {
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
  subscriptionIdentifier?: number;
}
export interface Sub extends SubRecord {
  topic: string;
}
export interface TrieSub extends SubRecord {
  clientId: string;
  topic: string;
}

// ---- journal records ---------------------------------------------------------------------
// One JSON array per line; the first element names the operation.
export type Rec =
  | ['r', EncPacket] // retained message stored (empty payload: removed)
  | ['s', string, Sub[]] // subscriptions added
  | ['u', string, string[]] // subscriptions removed (topics)
  | ['c', string] // all subscriptions of a client removed
  | ['e', string[], EncPacket] // packet queued for clients
  | ['m', string, string | undefined, number | undefined, number] // queued packet got a messageId
  | ['p', string, EncPacket] // queued packet replaced (same messageId, e.g. by a PUBREL)
  | ['x', string, number] // queued packet cleared by messageId
  | ['o', string, EncPacket] // a queued packet exactly as it is (compaction)
  | ['i', string, EncPacket] // incoming QoS 2 packet stored
  | ['j', string, number] // incoming packet deleted
  | ['k', string] // incoming packets of a client dropped
  | ['w', string, EncPacket] // will stored
  | ['v', string]; // will deleted

export interface EncPacket {
  c: string;
  b?: string;
  n?: number;
  t?: string;
  /** payload, base64 */
  p?: string;
  q?: number;
  r?: 1;
  d?: 1;
  m?: number;
  /** clientId, nl, properties, messageExpiry when present */
  x?: Record<string, unknown>;
}

const EXTRA = ['clientId', 'nl', 'properties', 'messageExpiry'] as const;

export function encode(p: StoredPacket): EncPacket {
  const e: EncPacket = { c: p.cmd };
  if (p.brokerId !== undefined) e.b = p.brokerId;
  if (p.brokerCounter !== undefined) e.n = p.brokerCounter;
  if (p.topic !== undefined) e.t = p.topic;
  if (p.payload !== undefined) e.p = (typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload).toString('base64');
  if (p.qos) e.q = p.qos;
  if (p.retain) e.r = 1;
  if (p.dup) e.d = 1;
  if (p.messageId !== undefined && p.messageId !== null) e.m = p.messageId;
  for (const k of EXTRA) {
    if (Object.prototype.hasOwnProperty.call(p, k)) (e.x ??= {})[k] = p[k];
  }
  return e;
}

export function decode(e: EncPacket): StoredPacket {
  const p: StoredPacket = {
    cmd: e.c,
    brokerId: e.b,
    brokerCounter: e.n,
    topic: e.t,
    payload: e.p === undefined ? undefined : Buffer.from(e.p, 'base64'),
    qos: e.q ?? 0,
    retain: e.r === 1,
    dup: e.d === 1,
  };
  if (e.x) Object.assign(p, e.x);
  if (e.m !== undefined) p.messageId = e.m;
  return p;
}
