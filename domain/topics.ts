/** MQTT topic space of device protocol v1 and the platform's own topics. */

export const TOPIC_ROOT = 'heat/v1';

export const topics = {
  telemetry: (deviceId: string) => `${TOPIC_ROOT}/devices/${deviceId}/telemetry`,
  status: (deviceId: string) => `${TOPIC_ROOT}/devices/${deviceId}/status`,
  config: (deviceId: string) => `${TOPIC_ROOT}/devices/${deviceId}/config`,
  gatewayTelemetry: (gatewayId: string, deviceId: string) => `${TOPIC_ROOT}/gateways/${gatewayId}/devices/${deviceId}/telemetry`,
  /** Subscriptions of the ingest (shared by every service account that reads telemetry). */
  allTelemetry: [`${TOPIC_ROOT}/devices/+/telemetry`, `${TOPIC_ROOT}/gateways/+/devices/+/telemetry`],
  allStatus: `${TOPIC_ROOT}/devices/+/status`,
  /** Incidents opened/updated/resolved by the rules engine, QoS 1, for the API. */
  incidents: `${TOPIC_ROOT}/platform/incidents`,
  /** Registry changed (device added, disabled, secret rotated): services refresh their caches. */
  registryChanged: `${TOPIC_ROOT}/platform/registry`,
  /** Weather forecasts from a service account (issue #20), QoS 1, for the API to validate and store. */
  forecast: `${TOPIC_ROOT}/platform/forecast`,
  /** Latest readings fan-out for live views (QoS 0; the store is the source of truth). */
  live: `${TOPIC_ROOT}/platform/live`,
} as const;

export type ParsedTopic =
  | { type: 'telemetry'; deviceId: string; gatewayId?: string }
  | { type: 'status'; deviceId: string }
  | { type: 'config'; deviceId: string }
  | { type: 'platform'; name: string }
  | { type: 'unknown' };

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const DEVICE_PREFIX = `${TOPIC_ROOT}/devices/`;

/** Parse a topic of the v1 space. Never throws; anything unexpected is `unknown`. */
export function parseTopic(topic: string): ParsedTopic {
  // Fast path for heat/v1/devices/{id}/{leaf}, the topic of nearly every message (broker ACL
  // and ingest, per message): no split. Same answers as the general path below.
  if (topic.startsWith(DEVICE_PREFIX)) {
    const slash = topic.indexOf('/', DEVICE_PREFIX.length);
    if (slash > 0 && topic.indexOf('/', slash + 1) < 0) {
      const deviceId = topic.slice(DEVICE_PREFIX.length, slash);
      if (!SEGMENT.test(deviceId)) return { type: 'unknown' };
      const leaf = topic.slice(slash + 1);
      if (leaf === 'telemetry') return { type: 'telemetry', deviceId };
      if (leaf === 'status') return { type: 'status', deviceId };
      if (leaf === 'config') return { type: 'config', deviceId };
      return { type: 'unknown' };
    }
  }
  const p = topic.split('/');
  if (p[0] !== 'heat' || p[1] !== 'v1') return { type: 'unknown' };
  if (p.length === 5 && p[2] === 'devices' && SEGMENT.test(p[3]!)) {
    const deviceId = p[3]!;
    if (p[4] === 'telemetry') return { type: 'telemetry', deviceId };
    if (p[4] === 'status') return { type: 'status', deviceId };
    if (p[4] === 'config') return { type: 'config', deviceId };
  }
  if (p.length === 7 && p[2] === 'gateways' && p[4] === 'devices' && p[6] === 'telemetry' && SEGMENT.test(p[3]!) && SEGMENT.test(p[5]!)) {
    return { type: 'telemetry', deviceId: p[5]!, gatewayId: p[3]! };
  }
  if (p.length === 4 && p[2] === 'platform') return { type: 'platform', name: p[3]! };
  return { type: 'unknown' };
}
