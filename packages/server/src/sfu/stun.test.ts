import { describe, expect, it } from 'vitest';
import { isStun, repairZeroTiebreaker, rewriteMappedAddress, Stun, stunUsername, verifyIntegrity } from './stun.js';
import { bindingRequest, fingerprintOk } from './test-helpers/stunMessages.js';

const KEY = 'sfu-ice-password-0123456789';

/** The tiebreaker of the ICE-CONTROLLING/ICE-CONTROLLED attribute written by {@link bindingRequest}. */
const tiebreakerOf = (buf: Buffer): bigint => buf.readBigUInt64BE(20 + 4 + 12 + 4);

describe('STUN checks (stun.ts)', () => {
  it('reads a well-formed binding request, its USERNAME and its integrity', () => {
    const req = bindingRequest({ username: 'sfuU:cliU', key: KEY });
    expect(isStun(req)).toBe(true);
    expect(isStun(req.subarray(0, req.length - 4))).toBe(false);
    expect(stunUsername(req)).toBe('sfuU:cliU');
    expect(verifyIntegrity(req, KEY)).toBe(true);
    expect(verifyIntegrity(req, 'another password')).toBe(false);
    expect(fingerprintOk(req)).toBe(true);
  });

  it('repairZeroTiebreaker() writes the new tiebreaker into ICE-CONTROLLING 0 and signs the request again', () => {
    const req = bindingRequest({ username: 'sfuU:cliU', key: KEY, tiebreaker: 0n });
    expect(repairZeroTiebreaker(req, KEY, 0x1234_5678_9abc_def0n)).toBe(true);
    expect(tiebreakerOf(req)).toBe(0x1234_5678_9abc_def0n);
    expect(verifyIntegrity(req, KEY)).toBe(true);
    expect(fingerprintOk(req)).toBe(true);
  });

  it('repairZeroTiebreaker() repairs ICE-CONTROLLED 0 the same way', () => {
    const req = bindingRequest({ username: 'sfuU:cliU', key: KEY, role: Stun.ICE_CONTROLLED, tiebreaker: 0n });
    expect(repairZeroTiebreaker(req, KEY, 7n)).toBe(true);
    expect(tiebreakerOf(req)).toBe(7n);
    expect(verifyIntegrity(req, KEY)).toBe(true);
  });

  it('repairZeroTiebreaker() leaves a non-zero tiebreaker alone', () => {
    const req = bindingRequest({ username: 'sfuU:cliU', key: KEY, tiebreaker: 42n });
    const before = Buffer.from(req);
    expect(repairZeroTiebreaker(req, KEY, 7n)).toBe(false);
    expect(req.equals(before)).toBe(true);
  });

  it('repairZeroTiebreaker() never signs a request whose own integrity does not verify', () => {
    const req = bindingRequest({ username: 'sfuU:cliU', key: 'forged', tiebreaker: 0n });
    const before = Buffer.from(req);
    expect(repairZeroTiebreaker(req, KEY, 7n)).toBe(false);
    expect(req.equals(before)).toBe(true);
  });

  it('rewriteMappedAddress() puts the given address into XOR-MAPPED-ADDRESS and signs the response again', () => {
    const res = bindingRequest({ username: '', key: KEY, type: Stun.BINDING_SUCCESS, mapped: ['127.0.0.1', 40000] });
    expect(rewriteMappedAddress(res, '10.99.1.3', 49153, KEY)).toBe(true);
    const x = 20 + 4;
    expect(res.readUInt16BE(x + 2) ^ 0x2112).toBe(49153);
    expect(((res.readUInt32BE(x + 4) ^ 0x2112a442) >>> 0).toString(16)).toBe((0x0a63_0103).toString(16));
    expect(verifyIntegrity(res, KEY)).toBe(true);
    expect(fingerprintOk(res)).toBe(true);
  });
});
