/**
 * The idle-connections load of bench/broker.bench.ts, run as a child process
 * (`idle.load.ts <port> <from> <count>`) so that the bench process itself holds no thousands
 * of sockets: raw sockets, one CONNECT each, no keep-alive.
 */
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { deviceId, deviceSecret } from './broker.harness.ts';
import { connectPacket } from './load.raw.ts';

/** Open `count` idle device connections; print READY <ok> <failed>; hold until killed. */
async function loadMain(port: number, from: number, count: number): Promise<void> {
  const sockets: Socket[] = [];
  let ok = 0;
  let failed = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.setNoDelay(true);
      let done = false;
      const finish = (good: boolean) => {
        if (done) return;
        done = true;
        if (good) {
          ok++;
        } else {
          failed++;
          s.destroy();
        }
        resolve();
      };
      s.once('connect', () => s.write(connectPacket(deviceId(i), deviceId(i), deviceSecret(i))));
      // CONNACK: 0x20 0x02 <flags> <return code>
      s.once('data', (b: Buffer) => finish(b[0] === 0x20 && b[3] === 0));
      s.once('error', () => finish(false));
      s.once('close', () => finish(false));
      sockets.push(s);
    });
  const concurrency = 200;
  for (let i = 0; i < count; i += concurrency) {
    await Promise.all(Array.from({ length: Math.min(concurrency, count - i) }, (_, k) => one(from + i + k)));
  }
  process.stdout.write(`READY ${ok} ${failed}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port, from, count] = process.argv.slice(2).map(Number) as [number, number, number];
  await loadMain(port, from, count);
}
