/**
 * Disk-fault injection for a service child process (issue 17), loaded with
 * `NODE_OPTIONS=--import <this file>`: a thin wrapper over the fs calls the stores make
 * (writeSync, fsyncSync, fdatasync, openSync for writing, renameSync, and FileHandle write /
 * datasync / sync for the spool). While the control file `DISK_FAULT_FILE` holds `ENOSPC`
 * or `EIO`, every such call on a path containing `DISK_FAULT_MATCH` fails with that error,
 * as a full or failing disk would; empty (or absent) → the real calls. The file is re-read at
 * most every 20 ms. Reads are never failed, so a restart sees what really reached the disk.
 * `ENOSPC <part>` (or `EIO <part>`) fails only the matching paths that also contain `<part>`,
 * so one process' stores can be failed one at a time (e.g. the broker journal, then the spool).
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const control = process.env.DISK_FAULT_FILE;
const match = process.env.DISK_FAULT_MATCH ?? '';
if (control) {
  const real = { ...fs };
  let mode = '';
  let only = '';
  let readAt = 0;
  const fault = () => {
    const now = Date.now();
    if (now - readAt > 20) {
      readAt = now;
      try {
        [mode = '', only = ''] = real.readFileSync(control, 'utf8').trim().split(/\s+/);
      } catch {
        mode = '';
      }
    }
    return mode === 'ENOSPC' || mode === 'EIO' ? mode : '';
  };
  const error = (code, call, path) =>
    Object.assign(new Error(`${code}: ${code === 'ENOSPC' ? 'no space left on device' : 'i/o error'}, ${call} '${path}'`), {
      code,
      errno: code === 'ENOSPC' ? -28 : -5,
      syscall: call,
      path,
    });
  /** fd → path, for the descriptors opened on matching paths. */
  const paths = new Map();
  const hit = (fd) => paths.get(fd);
  const failing = (path) => path !== undefined && fault() !== '' && path.includes(only);

  fs.openSync = function (path, flags, ...rest) {
    const p = String(path);
    const writing = typeof flags === 'string' ? /[wa+]/.test(flags) : typeof flags === 'number' && (flags & 3) !== 0;
    if (p.includes(match) && writing && failing(p)) throw error(fault(), 'open', p);
    const fd = real.openSync(path, flags, ...rest);
    if (p.includes(match)) paths.set(fd, p);
    return fd;
  };
  fs.closeSync = function (fd) {
    paths.delete(fd);
    return real.closeSync(fd);
  };
  fs.writeSync = function (fd, ...rest) {
    const p = hit(fd);
    if (failing(p)) {
      // A full disk often takes part of a write first: leave a torn tail, as it would.
      const [buf, off = 0] = rest;
      if (Buffer.isBuffer(buf) && buf.length - off > 16) real.writeSync(fd, buf, off, Math.floor((buf.length - off) / 2));
      throw error(fault(), 'write', p);
    }
    return real.writeSync(fd, ...rest);
  };
  fs.fsyncSync = function (fd) {
    const p = hit(fd);
    if (failing(p)) throw error(fault(), 'fsync', p);
    return real.fsyncSync(fd);
  };
  fs.fdatasync = function (fd, cb) {
    const p = hit(fd);
    if (failing(p)) return process.nextTick(cb, error(fault(), 'fdatasync', p));
    return real.fdatasync(fd, cb);
  };
  fs.renameSync = function (from, to) {
    const p = String(to);
    if (p.includes(match) && failing(p)) throw error(fault(), 'rename', p);
    return real.renameSync(from, to);
  };
  fs.writeFileSync = function (file, ...rest) {
    const p = String(file);
    if (p.includes(match) && failing(p)) throw error(fault(), 'open', p);
    return real.writeFileSync(file, ...rest);
  };
  syncBuiltinESMExports();

  // The spool writes through fs/promises FileHandles: wrap the prototype's write and sync.
  const probe = await fs.promises.open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(probe);
  await probe.close();
  const handlePaths = new WeakMap();
  const realOpen = fs.promises.open;
  fs.promises.open = async function (path, flags, ...rest) {
    const p = String(path);
    const writing = typeof flags === 'string' && /[wa+]/.test(flags);
    if (p.includes(match) && writing && failing(p)) throw error(fault(), 'open', p);
    const h = await realOpen.call(this, path, flags, ...rest);
    if (p.includes(match)) handlePaths.set(h, p);
    return h;
  };
  for (const [name, call] of [
    ['write', 'write'],
    ['datasync', 'fdatasync'],
    ['sync', 'fsync'],
  ]) {
    const orig = proto[name];
    proto[name] = async function (...args) {
      const p = handlePaths.get(this);
      if (failing(p)) throw error(fault(), call, p);
      return orig.apply(this, args);
    };
  }
  syncBuiltinESMExports();
}
