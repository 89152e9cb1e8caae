/**
 * SUBSCRIBE: protocol v1 ACL. A refused filter is negated (SUBACK 0x80 for that filter,
 * [MQTT-3.9.3]); the connection stays up and the other filters of the packet are granted.
 */
import type { Client, Subscription } from 'aedes';
import { subscribeRefusal } from './access.rules.ts';
import type { BrokerContext } from './context.ts';

export function createAuthorizeSubscribe(ctx: BrokerContext) {
  const { metrics, logger } = ctx;

  return function authorizeSubscribe(
    client: Client,
    sub: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const principal = ctx.principals.get(client);
    const reason = principal ? subscribeRefusal(principal, sub.topic) : 'subscribe_denied';
    if (reason) {
      metrics.refuse(reason);
      logger.info({ clientId: client.id, topic: sub.topic, reason }, 'subscription refused');
      return done(null, null);
    }
    done(null, sub);
  };
}
