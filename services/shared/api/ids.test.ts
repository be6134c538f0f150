import { describe, expect, it } from 'vitest';
import { isUuid, newId } from './ids.js';

describe('newId', () => {
  it('issues version 7 UUIDs that sort by creation time', () => {
    const ids = [1_600_000_000_000, 1_700_000_000_000, 1_700_000_000_001].map((ms) =>
      newId(new Date(ms)),
    );
    for (const id of ids) {
      expect(isUuid(id)).toBe(true);
      expect(id[14]).toBe('7');
      expect('89ab').toContain(id[19]);
    }
    expect([...ids].reverse().sort()).toEqual(ids);
  });

  it('is monotonic within one millisecond: ids made in a row sort in the order made', () => {
    const ids = Array.from({ length: 10_000 }, () => newId());
    // 10,000 ids take a few milliseconds at most: many share one.
    expect(new Set(ids.map((id) => id.slice(0, 13))).size).toBeLessThan(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is unique within one given millisecond', () => {
    const now = new Date();
    expect(new Set(Array.from({ length: 1000 }, () => newId(now))).size).toBe(1000);
  });
});

describe('isUuid', () => {
  it('accepts only the lower-case canonical form', () => {
    expect(isUuid('0190a4b2-1c3d-7e4f-8a9b-0c1d2e3f4a5b')).toBe(true);
    expect(isUuid('0190A4B2-1C3D-7E4F-8A9B-0C1D2E3F4A5B')).toBe(false);
    expect(isUuid('0190a4b21c3d7e4f8a9b0c1d2e3f4a5b')).toBe(false);
    expect(isUuid("' OR 1=1 --")).toBe(false);
    expect(isUuid('')).toBe(false);
  });
});
