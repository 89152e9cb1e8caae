import { describe, expect, it } from 'vitest';
import { ManualClock } from '../domain/clock.ts';
import { PublishBucket } from './rate-limit.ts';

describe('PublishBucket', () => {
  it('grants the burst, then asks to wait, then calls a flood', () => {
    const clock = new ManualClock(0);
    const b = new PublishBucket(clock, 10, 5, 5);
    for (let i = 0; i < 5; i++) expect(b.take()).toEqual({ waitMs: 0 });
    expect(b.take()).toEqual({ waitMs: 100 }); // 1 token of debt at 10/s
    expect(b.take()).toEqual({ waitMs: 200 });
    for (let i = 0; i < 3; i++) b.take();
    expect(b.take()).toBe('flood');
  });

  it('refills with time up to the burst size', () => {
    const clock = new ManualClock(0);
    const b = new PublishBucket(clock, 10, 5, 5);
    for (let i = 0; i < 5; i++) b.take();
    clock.advance(60_000);
    for (let i = 0; i < 5; i++) expect(b.take()).toEqual({ waitMs: 0 });
    expect(b.take()).toEqual({ waitMs: 100 });
  });
});
