import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Range } from './crc32.ts';

describe('crc32Range', () => {
  it('equals node:zlib crc32 of the same range, at every alignment and short length', () => {
    const buf = randomBytes(600);
    for (let start = 0; start < 9; start++)
      for (let len = 0; len <= 40; len++) expect(crc32Range(buf, start, start + len)).toBe(crc32(buf.subarray(start, start + len)));
    expect(crc32Range(buf, 3, 597)).toBe(crc32(buf.subarray(3, 597)));
  });

  it('gives the standard check value', () => {
    expect(crc32Range(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926);
  });
});
