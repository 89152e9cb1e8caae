/**
 * Secret hashing. Device and service secrets are 128-bit random values issued by the
 * platform, so a salted SHA-256 is enough (no dictionary to attack) and keeps 20,000
 * reconnecting devices cheap to authenticate. People's passwords are chosen by people and
 * get scrypt (memory-hard) instead.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export interface SecretHash {
  readonly hash: string;
  readonly salt: string;
}

export function newDeviceSecret(): string {
  return randomBytes(16).toString('base64url');
}

export function hashDeviceSecret(secret: string, salt = randomBytes(16).toString('hex')): SecretHash {
  return { salt, hash: createHash('sha256').update(salt).update('\0').update(secret).digest('hex') };
}

export function verifyDeviceSecret(secret: string, stored: SecretHash): boolean {
  const a = Buffer.from(hashDeviceSecret(secret, stored.salt).hash, 'hex');
  const b = Buffer.from(stored.hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** scrypt parameters for people's passwords: N=2^14, r=8, p=1 (~16 MiB, ~50 ms). */
const SCRYPT = { N: 16384, r: 8, p: 1, keyLen: 32 } as const;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, SCRYPT.keyLen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('hex')}$${key.toString('hex')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [alg, n, r, p, saltHex, keyHex] = stored.split('$');
  if (alg !== 'scrypt' || !saltHex || !keyHex) return false;
  const key = Buffer.from(keyHex, 'hex');
  const got = scryptSync(password, Buffer.from(saltHex, 'hex'), key.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(got, key);
}
