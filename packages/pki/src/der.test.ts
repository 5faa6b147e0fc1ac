import { describe, expect, it } from 'vitest';
import {
  children,
  namedBits,
  objectIdentifier,
  readObjectIdentifier,
  readTime,
  time,
  tlv,
  unsignedInteger,
} from './der.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('DER', () => {
  it('encodes named bits without trailing zero bits, counting the unused ones (X.690 11.2.2)', () => {
    expect(hex(namedBits([0, 5, 6]))).toBe('03020186'); // keyUsage of a CA
    expect(hex(namedBits([0, 4]))).toBe('03020388'); // digitalSignature, keyAgreement
    expect(hex(namedBits([0, 2]))).toBe('030205a0'); // digitalSignature, keyEncipherment
    expect(hex(namedBits([8]))).toBe('0303070080'); // decipherOnly
  });

  it('encodes integers minimally and positive', () => {
    expect(hex(unsignedInteger(Buffer.from([0, 0, 0x12])))).toBe('020112');
    expect(hex(unsignedInteger(Buffer.from([0x80])))).toBe('02020080');
    expect(hex(unsignedInteger(Buffer.from([0])))).toBe('020100');
  });

  it('writes and reads object identifiers, arcs of several bytes included', () => {
    expect(hex(objectIdentifier('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302');
    expect(readObjectIdentifier(objectIdentifier('2.5.29.35').subarray(2))).toBe('2.5.29.35');
    expect(readObjectIdentifier(objectIdentifier('1.3.6.1.5.5.7.3.1').subarray(2))).toBe('1.3.6.1.5.5.7.3.1');
  });

  it('writes UTCTime through 2049 and GeneralizedTime from 2050, and reads both back', () => {
    const before = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
    const after = new Date(Date.UTC(2050, 0, 1, 0, 0, 0));
    expect(time(before).toString('latin1')).toBe('\x17\x0d491231235959Z');
    expect(time(after).toString('latin1')).toBe('\x18\x0f20500101000000Z');
    for (const date of [before, after]) expect(readTime(children(time(date))[0]!)).toEqual(date);
  });

  it('uses long-form lengths past 127 bytes and reads them back', () => {
    const content = Buffer.alloc(300, 7);
    const encoded = tlv(0x04, content);
    expect(hex(encoded.subarray(0, 4))).toBe('0482012c');
    const [element] = children(encoded);
    expect(element!.content.equals(content)).toBe(true);
    expect(() => children(encoded.subarray(0, 100))).toThrow(/truncated/);
  });
});
