/**
 * PUBLISH: protocol v1 topic ACL, then the per-client allowance. A refused publish closes
 * the connection (MQTT 3.1.1 has no negative PUBACK [MQTT-3.3.5-2]); nothing is delivered.
 *
 * Durability: aedes 1.2 writes the QoS 1 PUBACK right after this hook and stores the
 * message only after that write (lib/handlers/publish.js). With `ackAfterStore` the accepted
 * QoS 1 message is published from here, so the PUBACK follows the store (app.ts). In spool
 * mode telemetry is appended to the ingest's spool from here instead (telemetry-spool.ts).
 */
import type { Client, PublishPacket } from 'aedes';
import { parseTopic, type ParsedTopic } from '../domain/topics.ts';
import { publishRefusal } from './access.rules.ts';
import { refusal, type BrokerContext } from './context.ts';
import { NO_WAIT } from './rate-limit.ts';

export function createAuthorizePublish(ctx: BrokerContext) {
  const { metrics, logger } = ctx;
  const ackAfterStore = ctx.options.ackAfterStore;
  const spoolTelemetry = ctx.spoolTelemetry;

  // A plain function with arguments, not a closure per message (this runs for every PUBLISH).
  // `parsed`: the topic, parsed by the hook in spool mode.
  function accept(client: Client, packet: PublishPacket, parsed: ParsedTopic | undefined, done: (error?: Error | null) => void): void {
    metrics.messagesIn++;
    metrics.bytesIn += packet.payload?.length ?? 0;
    // Spool mode: telemetry is durable in the ingest's spool before its PUBACK (any QoS).
    if (spoolTelemetry && parsed!.type === 'telemetry') return spoolTelemetry(client, packet, done);
    // QoS 2 is stored before its PUBREC by aedes itself (and a DUP must not publish again).
    if (packet.qos === 1 && ackAfterStore) ctx.publishBeforeAck(client, packet, done);
    else done(null);
  }

  return function authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void {
    if (!client) {
      // A will left behind by a broker that died: only a device's own status may go out.
      const t = parseTopic(packet.topic);
      const owner = (packet as PublishPacket & { clientId?: string }).clientId;
      if (t.type === 'status' && t.deviceId === owner) return done(null);
      metrics.refuse('publish_denied');
      return done(refusal('publish_denied'));
    }
    const principal = ctx.principals.get(client);
    // Once per publish: a device's ACL and spool mode's telemetry test both read it.
    const parsed = principal?.kind === 'device' || spoolTelemetry ? parseTopic(packet.topic) : undefined;
    const reason = principal ? publishRefusal(principal, packet.topic, parsed) : 'publish_denied';
    if (reason) {
      metrics.refuse(reason);
      logger.info({ clientId: client.id, topic: packet.topic, reason }, 'publish refused');
      return done(refusal(reason));
    }
    const bucket = ctx.buckets.get(client);
    const take = bucket ? bucket.take() : NO_WAIT;
    if (take === 'flood') {
      if (!ctx.cutOff.has(client)) {
        ctx.cutOff.add(client);
        metrics.refuse('rate_limited');
        logger.warn({ clientId: client.id }, 'publish flood: client cut off');
      }
      return done(refusal('rate_limited'));
    }
    // Throttling: holding the callback back stops aedes reading further packets from this
    // client, so TCP back-pressure slows the sender down while others keep flowing.
    if (take.waitMs > 0) setTimeout(accept, take.waitMs, client, packet, parsed, done);
    else accept(client, packet, parsed, done);
  };
}
