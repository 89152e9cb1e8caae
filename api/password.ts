/**
 * People's passwords off the event loop (issue 13 finding 7): scrypt through libuv's thread
 * pool (`crypto.scrypt`, not `scryptSync`), in the same `scrypt$N$r$p$salt$key` format as
 * storage/records/secrets.ts so hashes written by either verify with both. And the policy
 * every new password meets (finding 9): at least 10 characters, not a common password,
 * not the username (with digits around it), not one or two characters repeated or a keyboard/number run.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { HeatError } from '../domain/errors.ts';
import { COMMON_PASSWORDS } from './common-passwords.ts';

/** N=2^14, r=8, p=1: ~16 MiB and ~50 ms per hash, as in storage/records/secrets.ts. */
const SCRYPT = { N: 16384, r: 8, p: 1, keyLen: 32 } as const;
/** scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is close, so name the need. */
const MAXMEM = 64 * 1024 * 1024;

export const hashingDefaults = Object.freeze({
  /**
   * Hashes at once: one core stays free for the event loop (on 2 cores, 4 pool threads
   * hashing starved it: /health p95 170 ms during 20 logins). The rest wait in line.
   */
  maxConcurrent: Math.max(1, availableParallelism() - 1),
  /** Hashes waiting beyond this are refused (HEAT_ERR_RATE_LIMITED) instead of queueing memory. */
  maxQueued: 500,
});

let running = 0;
const queue: (() => void)[] = [];

function scryptAsync(password: string, salt: Buffer, keyLen: number, o: { N: number; r: number; p: number }): Promise<Buffer> {
  if (running >= hashingDefaults.maxConcurrent && queue.length >= hashingDefaults.maxQueued) {
    return Promise.reject(new HeatError('HEAT_ERR_RATE_LIMITED', 'Too many sign-ins at once; try again in a moment', { retryAfterSec: 1 }));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const run = (): void => {
      running++;
      scrypt(password, salt, keyLen, { ...o, maxmem: MAXMEM }, (err, key) => {
        running--;
        queue.shift()?.();
        if (err) reject(err);
        else resolve(key);
      });
    };
    if (running < hashingDefaults.maxConcurrent) run();
    else queue.push(run);
  });
}

export async function hashPasswordAsync(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keyLen, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('hex')}$${key.toString('hex')}`;
}

export async function verifyPasswordAsync(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, saltHex, keyHex] = stored.split('$');
  if (alg !== 'scrypt' || !saltHex || !keyHex) return false;
  const key = Buffer.from(keyHex, 'hex');
  const N = Number(n),
    R = Number(r),
    P = Number(p);
  // A stored hash is ours, but never let a corrupt row ask for gigabytes.
  if (!(N > 1 && N <= 1 << 20 && R >= 1 && R <= 32 && P >= 1 && P <= 4)) return false;
  const got = await scryptAsync(password, Buffer.from(saltHex, 'hex'), key.length, { N, r: R, p: P });
  return timingSafeEqual(got, key);
}

export const passwordPolicy = Object.freeze({ minLength: 10, maxLength: 256 });

const RUNS = [
  '0123456789',
  '1234567890',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  '1qaz2wsx3edc4rfv',
  'qazwsxedcrfv',
];

/** Why a password is refused: a stable code for clients (the dashboard translates it) and a text. */
export type PasswordProblem = {
  readonly code: 'short' | 'long' | 'common' | 'repeated' | 'sequence' | 'username' | 'unchanged';
  readonly text: string;
};

/** Why this password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, username?: string): PasswordProblem | undefined {
  if (password.length < passwordPolicy.minLength) return { code: 'short', text: `at least ${passwordPolicy.minLength} characters` };
  if (password.length > passwordPolicy.maxLength) return { code: 'long', text: `at most ${passwordPolicy.maxLength} characters` };
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return { code: 'common', text: 'a commonly used password' };
  if (new Set(lower).size <= 2) return { code: 'repeated', text: 'too few different characters' };
  const stripped = lower.replace(/[^a-z0-9]/g, '');
  if (RUNS.some((r) => r.includes(stripped) || [...r].reverse().join('').includes(stripped)))
    return { code: 'sequence', text: 'a keyboard or number sequence' };
  // A common password or the username with digits or punctuation around it ("password2026!", "zhangwei123").
  const core = lower.replace(/^[^a-z]+|[^a-z]+$/g, '');
  if (username && (lower === username.toLowerCase() || core === username.toLowerCase())) return { code: 'username', text: 'the username' };
  if (core.length >= 4 && COMMON_PASSWORDS.has(core)) return { code: 'common', text: 'a commonly used password with digits added' };
  return undefined;
}

/** Throws HEAT_ERR_WEAK_PASSWORD (400) naming the field and the reason. */
export function assertPasswordPolicy(password: string, field: string, username?: string): void {
  const problem = passwordProblem(password, username);
  if (problem) throw new HeatError('HEAT_ERR_WEAK_PASSWORD', `${field}: ${problem.text}`, { fields: [field], reason: problem.code });
}
