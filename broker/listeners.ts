/**
 * Transport listeners in front of aedes: TCP, WebSocket (ws → duplex stream, the way
 * aedes-server-factory does it), and TLS / WSS when a certificate and key are given.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { PlatformConfig } from '../domain/config.ts';

export interface TlsListen {
  /** TLS MQTT port (8883); 0 = any free port. */
  readonly port: number;
  /** WebSocket over TLS port; omitted = no wss listener. */
  readonly wssPort?: number;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface ListenOptions {
  readonly mqttPort: number;
  readonly wsPort: number;
  readonly host?: string;
  readonly tls?: TlsListen;
}

/** The ports the platform configuration asks for, TLS ones (certificate and key read here) only when it names a certificate. */
export function listenOptions(
  config: Pick<PlatformConfig, 'mqttPort' | 'mqttWsPort' | 'host' | 'tls' | 'mqttTlsPort' | 'mqttWssPort'>,
): ListenOptions {
  return {
    mqttPort: config.mqttPort,
    wsPort: config.mqttWsPort,
    host: config.host,
    tls: config.tls
      ? {
          port: config.mqttTlsPort,
          wssPort: config.mqttWssPort,
          cert: readFileSync(config.tls.certFile),
          key: readFileSync(config.tls.keyFile),
        }
      : undefined,
  };
}

export interface BoundPorts {
  mqttPort: number;
  wsPort: number;
  tlsPort?: number;
  wssPort?: number;
}

type Handle = (stream: Duplex, req?: IncomingMessage) => void;

interface Closable {
  close(): Promise<void>;
}

const listenOn = (srv: NetServer | HttpServer, port: number, host: string, backlog: number) =>
  new Promise<number>((resolve, reject) => {
    trackSockets(srv);
    srv.once('error', reject);
    srv.listen({ port, host, backlog }, () => {
      srv.off('error', reject);
      resolve((srv.address() as AddressInfo).port);
    });
  });

/** Open sockets per server: a half-open client (e.g. one that ended mid-CONNECT) must not hold close() until its keep-alive runs out. */
const openSockets = new WeakMap<NetServer | HttpServer, Set<Socket>>();
const trackSockets = (srv: NetServer | HttpServer) => {
  const set = new Set<Socket>();
  openSockets.set(srv, set);
  srv.on('connection', (s: Socket) => {
    set.add(s);
    s.once('close', () => set.delete(s));
  });
};

const closeServer = (srv: NetServer | HttpServer) =>
  new Promise<void>((resolve) => {
    if ('closeAllConnections' in srv) srv.closeAllConnections();
    srv.close(() => resolve());
    for (const s of openSockets.get(srv) ?? []) s.destroy();
  });

export interface ListenLimits {
  /** Largest WebSocket message accepted; ws closes the connection (1009) at the frame header beyond it. */
  readonly wsMaxPayloadBytes: number;
  /** Accept queue length of each listening socket (options.listenBacklog; the kernel caps it at net.core.somaxconn). */
  readonly backlog: number;
}

function wsOver(srv: HttpServer, handle: Handle, limits: ListenLimits): Closable {
  // [MQTT-6.0.0-3]: the WebSocket subprotocol is "mqtt"; accept it when offered.
  const wss = new WebSocketServer({
    server: srv,
    maxPayload: limits.wsMaxPayloadBytes,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  });
  wss.on('connection', (ws, req) => {
    // ws reports a protocol violation (a frame past maxPayload: close 1009, a bad opcode, …) by
    // sending its close frame and then reading — and discarding — whatever the peer still sends
    // until the close handshake ends (up to 30 s): a 100 MB frame was read through whole, its
    // chunks left for the GC (peak RSS +57 MB for four frames). Drop the connection at once
    // instead, so a refused frame costs no further reads. Registered before the stream's listener.
    ws.once('error', () => ws.terminate());
    const stream = createWebSocketStream(ws);
    stream.on('error', () => ws.terminate());
    handle(stream, req);
  });
  return { close: () => new Promise<void>((resolve) => wss.close(() => resolve())) };
}

export async function openListeners(
  handle: Handle,
  o: ListenOptions,
  limits: ListenLimits,
): Promise<{ ports: BoundPorts; close(): Promise<void> }> {
  const host = o.host ?? '0.0.0.0';
  const servers: (NetServer | HttpServer)[] = [];
  const extras: Closable[] = [];
  const ports: BoundPorts = { mqttPort: 0, wsPort: 0 };
  try {
    const tcp = createNetServer((s: Socket) => handle(s));
    servers.push(tcp);
    ports.mqttPort = await listenOn(tcp, o.mqttPort, host, limits.backlog);

    const http = createHttpServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n'));
    servers.push(http);
    extras.push(wsOver(http, handle, limits));
    ports.wsPort = await listenOn(http, o.wsPort, host, limits.backlog);

    if (o.tls) {
      const creds = { cert: o.tls.cert, key: o.tls.key };
      const tls = createTlsServer(creds, (s) => handle(s));
      servers.push(tls);
      ports.tlsPort = await listenOn(tls, o.tls.port, host, limits.backlog);
      if (o.tls.wssPort !== undefined) {
        const https = createHttpsServer(creds, (_req, res) => res.writeHead(426).end());
        servers.push(https);
        extras.push(wsOver(https, handle, limits));
        ports.wssPort = await listenOn(https, o.tls.wssPort, host, limits.backlog);
      }
    }
  } catch (e) {
    await Promise.all([...extras.map((x) => x.close()), ...servers.map(closeServer)]);
    throw e;
  }
  return {
    ports,
    close: async () => {
      await Promise.all(extras.map((x) => x.close()));
      await Promise.all(servers.map(closeServer));
    },
  };
}
