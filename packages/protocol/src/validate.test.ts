import { describe, expect, it } from 'vitest';
import { limits } from './limits.js';
import { normalizeSessionName, normalizeUserName, parseClientMessage, utf8Length, validateIdleTimeoutMins, validatePasscode, validateSignal } from './validate.js';

const parse = (o: unknown) => parseClientMessage(JSON.stringify(o));

describe('parseClientMessage', () => {
  it('rejects malformed JSON with OT_BAD_REQUEST', () => {
    expect(parseClientMessage('{nope')).toMatchObject({ ok: false, error: { name: 'OT_BAD_REQUEST', code: 400, message: 'Malformed JSON' } });
  });

  it('rejects non-object frames', () => {
    expect(parse([1, 2])).toMatchObject({ ok: false });
    expect(parse('x')).toMatchObject({ ok: false });
    expect(parse(null)).toMatchObject({ ok: false });
  });

  it('rejects another protocol version and keeps the request id', () => {
    expect(parse({ v: 2, type: 'signal', id: 7 })).toMatchObject({ ok: false, id: 7, error: { message: expect.stringContaining('version') } });
  });

  it('rejects unknown message types', () => {
    expect(parse({ v: 1, type: 'teleport', id: 1 })).toMatchObject({ ok: false, id: 1, error: { message: expect.stringContaining('Unknown message type') } });
  });

  it('requires a positive integer id on requests', () => {
    for (const id of [undefined, 0, -1, 1.5, '1']) expect(parse({ v: 1, type: 'signal', id }).ok).toBe(false);
  });

  it('rejects wrong field types', () => {
    expect(parse({ v: 1, type: 'connect', id: 1, sessionId: 5, token: 't' }).ok).toBe(false);
    expect(parse({ v: 1, type: 'connect', id: 1, sessionId: 's', token: 't', passcode: 1 }).ok).toBe(false);
    expect(parse({ v: 1, type: 'signal', id: 1, data: {} }).ok).toBe(false);
    expect(parse({ v: 1, type: 'leave', id: 1, end: 'yes' }).ok).toBe(false);
    expect(parse({ v: 1, type: 'ack', seq: -1 }).ok).toBe(false);
    expect(parse({ v: 1, type: 'moderate', id: 1, action: 'explode' }).ok).toBe(false);
  });

  it('ignores unknown fields', () => {
    const r = parse({ v: 1, type: 'signal', id: 3, signalType: 'chat', data: 'hi', extra: { a: 1 } });
    expect(r).toEqual({ ok: true, message: { v: 1, type: 'signal', id: 3, to: undefined, signalType: 'chat', data: 'hi' } });
  });

  it('accepts ack and ping without an id', () => {
    expect(parse({ v: 1, type: 'ack', seq: 4 })).toMatchObject({ ok: true, message: { type: 'ack', seq: 4 } });
    expect(parse({ v: 1, type: 'ping', ack: 2 })).toMatchObject({ ok: true, message: { type: 'ping', ack: 2 } });
  });
});

describe('names and passcodes', () => {
  it('lower-cases session names and accepts spaces and symbols', () => {
    expect(normalizeSessionName('My Room #1!')).toEqual({ ok: true, value: 'my room #1!' });
  });

  it('rejects session names over 150 characters and empty ones', () => {
    expect(normalizeSessionName('a'.repeat(150)).ok).toBe(true);
    expect(normalizeSessionName('a'.repeat(151)).ok).toBe(false);
    expect(normalizeSessionName('').ok).toBe(false);
  });

  it('truncates display names over 200 characters without error, counting code points', () => {
    expect(normalizeUserName('x'.repeat(250))).toHaveLength(200);
    expect([...normalizeUserName('😀'.repeat(210))]).toHaveLength(200);
    expect(normalizeUserName('')).toBe('null');
  });

  it('accepts passcodes of up to 10 printable ASCII characters only', () => {
    expect(validatePasscode('a1 ~!@#$%^')).toBeNull();
    expect(validatePasscode('x'.repeat(11))).toMatch(/10/);
    expect(validatePasscode('pässcode')).toMatch(/printable ASCII/);
    expect(validatePasscode('tab\there')).toMatch(/printable ASCII/);
  });

  it('accepts idle timeouts in (0, one week] minutes', () => {
    expect(validateIdleTimeoutMins(0.005)).toBeNull();
    expect(validateIdleTimeoutMins(0)).not.toBeNull();
    expect(validateIdleTimeoutMins(Number.NaN)).not.toBeNull();
    expect(validateIdleTimeoutMins(7 * 24 * 60 + 1)).not.toBeNull();
  });
});

describe('validateSignal', () => {
  it('accepts the reference alphabet and lengths', () => {
    expect(validateSignal('a-Z_0~', 'x'.repeat(limits.signalDataMaxBytes))).toBeNull();
    expect(validateSignal(undefined, undefined)).toBeNull();
  });

  it('returns 400 for a type with other characters', () => {
    expect(validateSignal('bad type', 'x')).toMatchObject({ code: 400 });
  });

  it('returns 413 when the type exceeds 128 characters', () => {
    expect(validateSignal('a'.repeat(129), 'x')).toMatchObject({ code: 413 });
  });

  it('returns 413 when data exceeds 8 kB of UTF-8', () => {
    expect(validateSignal('t', 'é'.repeat(4097))).toMatchObject({ code: 413 });
    expect(validateSignal('t', 'é'.repeat(4096))).toBeNull();
  });

  it('returns 400 for non-string data', () => {
    expect(validateSignal('t', 5)).toMatchObject({ code: 400 });
  });
});

describe('utf8Length', () => {
  it('matches Buffer.byteLength for mixed text', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a😀é€\u0000']) expect(utf8Length(s)).toBe(Buffer.byteLength(s));
  });
});
