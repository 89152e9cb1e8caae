/**
 * Topic access of device protocol v1 (ARCHITECTURE.md "Contracts"): who may publish and
 * subscribe where. Pure: the hooks resolve the principal at CONNECT and ask here per packet.
 */
import { TOPIC_ROOT, parseTopic, topics, type ParsedTopic } from '../domain/topics.ts';
import type { ServiceScope } from '../storage/records/registry.repository.ts';

export type Principal =
  | {
      readonly kind: 'device';
      readonly id: string;
      readonly isGateway: boolean;
      /** Devices the registry assigns to this gateway (empty for other devices). */
      gatewayDevices: ReadonlySet<string>;
    }
  | { readonly kind: 'service'; readonly id: string; readonly scopes: readonly ServiceScope[] };

/** Reasons a packet or connection is refused; every one is counted in the metrics. */
export type RefusalReason =
  | 'unknown_client'
  | 'bad_credentials'
  | 'client_id_mismatch'
  | 'disabled'
  | 'identifier_rejected'
  | 'pre_auth_limit'
  | 'connect_timeout'
  | 'max_connections'
  | 'publish_denied'
  | 'subscribe_denied'
  | 'wildcard_denied'
  | 'packet_too_large'
  | 'rate_limited'
  | 'drain_timeout'
  | 'kicked';

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'unknown_client',
  'bad_credentials',
  'client_id_mismatch',
  'disabled',
  'identifier_rejected',
  'pre_auth_limit',
  'connect_timeout',
  'max_connections',
  'publish_denied',
  'subscribe_denied',
  'wildcard_denied',
  'packet_too_large',
  'rate_limited',
  'drain_timeout',
  'kicked',
];

const PLATFORM_ALL = `${TOPIC_ROOT}/platform/#`;

/** Topic filters each service scope may publish to / subscribe to. */
const SCOPES: Readonly<Record<ServiceScope, { publish: readonly string[]; subscribe: readonly string[] }>> = {
  ingest: {
    publish: [topics.incidents, topics.live],
    subscribe: [...topics.allTelemetry, topics.allStatus, topics.registryChanged],
  },
  api: {
    publish: [topics.config('+'), topics.registryChanged],
    subscribe: [PLATFORM_ALL, topics.allStatus],
  },
  // Simulators replaying a city publish for any device, including its status (online/offline).
  replay: {
    // …and their weather as a forecast (issue #20); devices never reach platform topics.
    publish: [...topics.allTelemetry, topics.allStatus, topics.forecast],
    subscribe: [topics.config('+')],
  },
  admin: { publish: ['#'], subscribe: ['#'] },
};

const hasWildcard = (filter: string) => filter.includes('+') || filter.includes('#');

/** Same text in filter[fs, fe) and topic[ts, te). */
function sameLevel(filter: string, fs: number, fe: number, topic: string, ts: number, te: number): boolean {
  if (fe - fs !== te - ts) return false;
  for (let i = 0; i < fe - fs; i++) if (filter.charCodeAt(fs + i) !== topic.charCodeAt(ts + i)) return false;
  return true;
}

/**
 * MQTT topic-filter match of a concrete topic [MQTT-4.7]. Runs for every PUBLISH of a
 * service account: it walks both strings level by level instead of splitting them (no
 * allocation per message).
 */
export function topicMatches(filter: string, topic: string): boolean {
  let fi = 0;
  let ti = 0;
  for (let level = 0; ; level++) {
    let fe = filter.indexOf('/', fi);
    if (fe === -1) fe = filter.length;
    const single = fe - fi === 1 ? filter.charCodeAt(fi) : -1;
    if (single === 35) return level === 0 ? topic.charCodeAt(0) !== 36 : true; // '#'; not '$…' [MQTT-4.7.2-1]
    if (ti > topic.length) return false; // the topic has fewer levels
    let te = topic.indexOf('/', ti);
    if (te === -1) te = topic.length;
    if (single === 43) {
      // '+'
      if (level === 0 && topic.charCodeAt(0) === 36) return false;
    } else if (!sameLevel(filter, fi, fe, topic, ti, te)) return false;
    if (fe === filter.length) return te === topic.length;
    fi = fe + 1;
    ti = te + 1;
  }
}

/** True when every topic `filter` can match is also matched by `allowed`. */
export function filterCovered(filter: string, allowed: string): boolean {
  const f = filter.split('/');
  const a = allowed.split('/');
  for (let i = 0; i < f.length; i++) {
    const al = a[i];
    if (al === undefined) return false;
    if (al === '#') return true;
    const fl = f[i]!;
    if (fl === '#') return false;
    if (al === '+') continue;
    if (fl !== al) return false;
  }
  return f.length === a.length;
}

/** undefined = allowed; otherwise why not. `parsed`: `topic` parsed already (the publish hook's). */
export function publishRefusal(p: Principal, topic: string, parsed?: ParsedTopic): RefusalReason | undefined {
  if (p.kind === 'service') {
    if (p.scopes.includes('admin')) return undefined;
    if (topic.startsWith('$')) return 'publish_denied';
    for (const s of p.scopes) for (const f of SCOPES[s].publish) if (topicMatches(f, topic)) return undefined;
    return 'publish_denied';
  }
  const t = parsed ?? parseTopic(topic);
  if (t.type === 'telemetry' && t.gatewayId === undefined && t.deviceId === p.id) return undefined;
  if (t.type === 'status' && t.deviceId === p.id) return undefined;
  if (p.isGateway && t.type === 'telemetry' && t.gatewayId === p.id && p.gatewayDevices.has(t.deviceId)) return undefined;
  return 'publish_denied';
}

export function subscribeRefusal(p: Principal, filter: string): RefusalReason | undefined {
  if (p.kind === 'service') {
    if (p.scopes.includes('admin')) return undefined;
    return p.scopes.some((s) => SCOPES[s].subscribe.some((a) => filterCovered(filter, a))) ? undefined : 'subscribe_denied';
  }
  // Devices never get wildcards: one compromised thermostat must not read the city.
  if (hasWildcard(filter)) return 'wildcard_denied';
  const t = parseTopic(filter);
  if (t.type !== 'config') return 'subscribe_denied';
  if (t.deviceId === p.id) return undefined;
  if (p.isGateway && p.gatewayDevices.has(t.deviceId)) return undefined;
  return 'subscribe_denied';
}
