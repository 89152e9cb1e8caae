/**
 * Clients for the broker security tests (tests/security/broker-*.test.ts): Debian's
 * mosquitto_pub (optionally bound to another loopback address, to play a second host) and
 * a raw MQTT client over TCP (mqtt-packet) for what MQTT.js will not send.
 */
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { generate, parser as mqttParser, type IConnectPacket, type Packet } from 'mqtt-packet';

const run = promisify(execFile);

export interface PubResult {
  readonly code: number;
  readonly out: string;
  readonly ms: number;
}

/** One QoS 1 mosquitto_pub; resolves with its exit code, output and duration (never rejects). */
export async function mosquittoPub(o: {
  port: number;
  id: string;
  username?: string;
  password: string;
  topic?: string;
  bind?: string;
}): Promise<PubResult> {
  const args = [
    '-h',
    '127.0.0.1',
    '-p',
    String(o.port),
    '-V',
    'mqttv311',
    '-i',
    o.id,
    '-u',
    o.username ?? o.id,
    '-P',
    o.password,
    '-q',
    '1',
  ];
  if (o.bind) args.push('-A', o.bind);
  args.push('-t', o.topic ?? `heat/v1/devices/${o.username ?? o.id}/telemetry`, '-m', JSON.stringify({ ts: Date.now(), temp: 20 }));
  const t0 = performance.now();
  try {
    const r = await run('mosquitto_pub', args, { timeout: 30_000 });
    return { code: 0, out: r.stdout + r.stderr, ms: performance.now() - t0 };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : -1,
      out: `${err.stdout ?? ''}${err.stderr ?? ''}`,
      ms: performance.now() - t0,
    };
  }
}

/** A raw TCP connection to the broker from `localAddress` (127.0.0.x), collecting parsed packets. */
export interface RawMqtt {
  readonly socket: Socket;
  readonly packets: Packet[];
  readonly closed: Promise<void>;
  send(p: Parameters<typeof generate>[0]): void;
  /** The first CONNACK's return code, or undefined when the connection closed without one. */
  connack(): Promise<number | undefined>;
}

export async function rawMqtt(port: number, localAddress = '127.0.0.1'): Promise<RawMqtt> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  const packets: Packet[] = [];
  const p = mqttParser({ protocolVersion: 4 });
  p.on('packet', (pk: Packet) => packets.push(pk));
  socket.on('data', (d: Buffer) => p.parse(d));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    packets,
    closed,
    send: (pk) => socket.write(generate(pk)),
    connack: async () => {
      await Promise.race([closed, new Promise<void>((resolve) => p.once('packet', () => resolve()))]);
      const ack = packets.find((x) => x.cmd === 'connack') as { returnCode?: number } | undefined;
      return ack?.returnCode;
    },
  };
}

export function connectPacket(o: Partial<IConnectPacket> & { clientId: string }): IConnectPacket {
  return { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, ...o };
}
