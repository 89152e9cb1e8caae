/**
 * Security headers on every answer (issue 13 finding 9), by @fastify/helmet: a Content
 * Security Policy the Svelte build satisfies (its only script and stylesheet are same-origin
 * files; Svelte sets styles through the CSSOM, which style-src does not restrict; socket.io
 * connects to the same origin), frame-ancestors 'none' (and X-Frame-Options DENY for old
 * browsers), nosniff, Referrer-Policy no-referrer. Registered before the access check so a
 * refusal carries them too.
 *
 * Left out on purpose: upgrade-insecure-requests and HSTS. A plain-HTTP install on a LAN
 * address would have its own assets upgraded to an https:// that nothing serves; HSTS
 * belongs to the TLS terminator that owns the certificate (docs/security.md).
 */
import helmet from '@fastify/helmet';
import type { App } from '../context.ts';

export const contentSecurityPolicy = Object.freeze({
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  scriptSrcAttr: ["'none'"],
});

export async function installSecurityHeaders(app: App): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: { ...contentSecurityPolicy } },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
  });
}
