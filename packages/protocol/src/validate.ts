import { ErrorCode, ErrorName, type WireError } from './errors.js';
import { limits, PROTOCOL_VERSION, SIGNAL_TYPE_PATTERN } from './limits.js';
import { VIDEO_TYPES, type VideoType } from './media.js';
import { MODERATION_ACTIONS, type ClientMessage } from './messages.js';

/** Outcome of validating one inbound frame. */
export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; error: WireError; id?: number };

const bad = (message: string, id?: number): ParseResult => ({
  ok: false,
  id,
  error: { name: ErrorName.BadRequest, code: ErrorCode.BadRequest, message },
});

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isId = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) > 0;
const optString = (o: Obj, k: string): boolean => o[k] === undefined || typeof o[k] === 'string';

/** UTF-8 byte length without allocating a buffer. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Parse and validate one client frame. Unknown fields are ignored; wrong types,
 * unknown message types and a wrong protocol version are rejected with a
 * `OT_BAD_REQUEST` error naming the problem. Semantic checks (signal sizes,
 * names, permissions) happen in the domain, which has the reference's codes.
 */
export function parseClientMessage(text: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return bad('Malformed JSON');
  }
  if (!isObj(raw)) return bad('A message must be a JSON object');
  const id = isId(raw.id) ? raw.id : undefined;
  if (raw.v !== PROTOCOL_VERSION) return bad(`Unsupported protocol version ${JSON.stringify(raw.v)}; expected ${PROTOCOL_VERSION}`, id);
  if (typeof raw.type !== 'string') return bad('Missing message type', id);
  const t = raw.type;
  if (t === 'ack') {
    if (!Number.isSafeInteger(raw.seq) || (raw.seq as number) < 0) return bad('ack.seq must be a non-negative integer');
    return { ok: true, message: { v: 1, type: 'ack', seq: raw.seq as number } };
  }
  if (t === 'ping') {
    if (raw.ack !== undefined && (!Number.isSafeInteger(raw.ack) || (raw.ack as number) < 0)) return bad('ping.ack must be a non-negative integer');
    return { ok: true, message: { v: 1, type: 'ping', ack: raw.ack as number | undefined } };
  }
  if (id === undefined) return bad(`${t}: id must be a positive integer`);
  switch (t) {
    case 'connect': {
      if (typeof raw.sessionId !== 'string') return bad('connect.sessionId must be a string', id);
      if (typeof raw.token !== 'string') return bad('connect.token must be a string', id);
      for (const k of ['apiKey', 'passcode', 'userName', 'sdk']) if (!optString(raw, k)) return bad(`connect.${k} must be a string`, id);
      if (raw.idleTimeoutMins !== undefined && (typeof raw.idleTimeoutMins !== 'number' || !Number.isFinite(raw.idleTimeoutMins)))
        return bad('connect.idleTimeoutMins must be a number', id);
      return {
        ok: true,
        message: {
          v: 1,
          type: 'connect',
          id,
          sessionId: raw.sessionId,
          token: raw.token,
          apiKey: raw.apiKey as string | undefined,
          passcode: raw.passcode as string | undefined,
          userName: raw.userName as string | undefined,
          idleTimeoutMins: raw.idleTimeoutMins as number | undefined,
          sdk: raw.sdk as string | undefined,
        },
      };
    }
    case 'resume': {
      if (typeof raw.connectionId !== 'string' || typeof raw.resumeToken !== 'string')
        return bad('resume needs connectionId and resumeToken strings', id);
      if (!Number.isSafeInteger(raw.lastSeq) || (raw.lastSeq as number) < 0) return bad('resume.lastSeq must be a non-negative integer', id);
      return {
        ok: true,
        message: { v: 1, type: 'resume', id, connectionId: raw.connectionId, resumeToken: raw.resumeToken, lastSeq: raw.lastSeq as number },
      };
    }
    case 'signal': {
      for (const k of ['to', 'signalType', 'data']) if (!optString(raw, k)) return bad(`signal.${k} must be a string`, id);
      return {
        ok: true,
        message: {
          v: 1,
          type: 'signal',
          id,
          to: raw.to as string | undefined,
          signalType: raw.signalType as string | undefined,
          data: raw.data as string | undefined,
        },
      };
    }
    case 'forceDisconnect': {
      if (typeof raw.connectionId !== 'string') return bad('forceDisconnect.connectionId must be a string', id);
      return { ok: true, message: { v: 1, type: 'forceDisconnect', id, connectionId: raw.connectionId } };
    }
    case 'moderate': {
      if (typeof raw.action !== 'string' || !(MODERATION_ACTIONS as readonly string[]).includes(raw.action))
        return bad(`moderate.action must be one of ${MODERATION_ACTIONS.join(', ')}`, id);
      if (!optString(raw, 'target') || !optString(raw, 'userName')) return bad('moderate.target and userName must be strings', id);
      return {
        ok: true,
        message: {
          v: 1,
          type: 'moderate',
          id,
          action: raw.action as (typeof MODERATION_ACTIONS)[number],
          target: raw.target as string | undefined,
          userName: raw.userName as string | undefined,
        },
      };
    }
    case 'leave': {
      if (raw.end !== undefined && typeof raw.end !== 'boolean') return bad('leave.end must be a boolean', id);
      return { ok: true, message: { v: 1, type: 'leave', id, end: raw.end as boolean | undefined } };
    }
    case 'publish':
    case 'unpublish':
    case 'subscribe':
    case 'unsubscribe':
    case 'subscription':
    case 'candidate':
    case 'peerSignal':
    case 'streamUpdate':
    case 'forceUnpublish':
    case 'forceMuteStream':
    case 'forceMuteAll':
    case 'disableForceMute':
      return parseMediaRequest(t, raw, id);
    default:
      return bad(`Unknown message type ${JSON.stringify(t).slice(0, 64)}`, id);
  }
}

const tooLarge = (message: string, id: number): ParseResult => ({
  ok: false,
  id,
  error: { name: ErrorName.TooLarge, code: ErrorCode.TooLarge, message },
});

const MAX_DIMENSION = 16384;
const isDims = (x: unknown): x is { width: number; height: number } =>
  isObj(x) &&
  Number.isSafeInteger(x.width) &&
  Number.isSafeInteger(x.height) &&
  (x.width as number) > 0 &&
  (x.height as number) > 0 &&
  (x.width as number) <= MAX_DIMENSION &&
  (x.height as number) <= MAX_DIMENSION;
const isFrameRate = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0 && x <= 240;
const optBool = (o: Obj, k: string): boolean => o[k] === undefined || typeof o[k] === 'boolean';
const isVideoType = (x: unknown): x is VideoType => typeof x === 'string' && (VIDEO_TYPES as readonly string[]).includes(x);
/** Ids of streams and subscribers are server-issued UUIDs; anything longer is not one of ours. */
const isRef = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= 128;

/** The media requests (media.ts): shapes and sizes; permissions and existence are the domain's. */
function parseMediaRequest(t: string, raw: Obj, id: number): ParseResult {
  const needRef = (k: string): ParseResult | null => (isRef(raw[k]) ? null : bad(`${t}.${k} must be a non-empty string of at most 128 characters`, id));
  const sdpCheck = (sdp: unknown = raw.sdp, what = `${t}.sdp`): ParseResult | null => {
    if (typeof sdp !== 'string' || sdp.length === 0) return bad(`${what} must be a non-empty SDP string`, id);
    if (utf8Length(sdp) > limits.sdpMaxBytes) return tooLarge(`${what} exceeds ${limits.sdpMaxBytes} bytes`, id);
    if (!sdp.startsWith('v=0')) return bad(`${what} is not an SDP (it must start with v=0)`, id);
    return null;
  };
  /** Relayed sessions send no SDP with publish/subscribe: absent is fine, present must be valid. */
  const optSdpCheck = (): ParseResult | null => (raw.sdp === undefined ? null : sdpCheck());
  const preferred = (): ParseResult | null => {
    if (raw.preferredResolution !== undefined && raw.preferredResolution !== null && !isDims(raw.preferredResolution))
      return bad(`${t}.preferredResolution must be { width, height } in pixels (1..${MAX_DIMENSION}) or null`, id);
    if (raw.preferredFrameRate !== undefined && raw.preferredFrameRate !== null && !isFrameRate(raw.preferredFrameRate))
      return bad(`${t}.preferredFrameRate must be a number in (0, 240] or null`, id);
    if (!optBool(raw, 'subscribeToAudio') || !optBool(raw, 'subscribeToVideo')) return bad(`${t}.subscribeToAudio and subscribeToVideo must be booleans`, id);
    return null;
  };
  const dims = raw.videoDimensions as { width: number; height: number } | undefined;
  const copyDims = dims ? { width: dims.width, height: dims.height } : undefined;
  const prefRes = raw.preferredResolution as { width: number; height: number } | null | undefined;
  const copyPrefRes = prefRes ? { width: prefRes.width, height: prefRes.height } : (prefRes as null | undefined);
  switch (t) {
    case 'publish': {
      const e = optSdpCheck();
      if (e) return e;
      const tracks = raw.tracks;
      if (tracks !== undefined && !(isObj(tracks) && typeof tracks.audio === 'boolean' && typeof tracks.video === 'boolean'))
        return bad('publish.tracks must be { audio: boolean, video: boolean }', id);
      if (raw.sdp === undefined && tracks === undefined) return bad('publish needs an sdp offer (routed sessions) or tracks (relayed sessions)', id);
      if (raw.replaceStreamId !== undefined && (!isRef(raw.replaceStreamId) || raw.sdp === undefined))
        return bad('publish.replaceStreamId must be a stream id (at most 128 characters), with an sdp offer', id);
      if (raw.name !== undefined && (typeof raw.name !== 'string' || raw.name.length > limits.streamNameMaxLength))
        return bad(`publish.name must be a string of at most ${limits.streamNameMaxLength} characters`, id);
      if (!optBool(raw, 'hasAudio') || !optBool(raw, 'hasVideo')) return bad('publish.hasAudio and hasVideo must be booleans', id);
      if (raw.videoType !== undefined && !isVideoType(raw.videoType)) return bad(`publish.videoType must be one of ${VIDEO_TYPES.join(', ')}`, id);
      if (raw.videoDimensions !== undefined && !isDims(raw.videoDimensions))
        return bad(`publish.videoDimensions must be { width, height } in pixels (1..${MAX_DIMENSION})`, id);
      if (raw.frameRate !== undefined && !isFrameRate(raw.frameRate)) return bad('publish.frameRate must be a number in (0, 240]', id);
      return {
        ok: true,
        message: {
          v: 1,
          type: 'publish',
          id,
          name: raw.name as string | undefined,
          hasAudio: raw.hasAudio as boolean | undefined,
          hasVideo: raw.hasVideo as boolean | undefined,
          videoType: raw.videoType as VideoType | undefined,
          videoDimensions: copyDims,
          frameRate: raw.frameRate as number | undefined,
          sdp: raw.sdp as string | undefined,
          tracks: isObj(tracks) ? { audio: tracks.audio as boolean, video: tracks.video as boolean } : undefined,
          replaceStreamId: raw.replaceStreamId as string | undefined,
        },
      };
    }
    case 'unpublish': {
      const e = needRef('streamId');
      if (e) return e;
      if (raw.reason !== undefined && raw.reason !== 'mediaStopped') return bad("unpublish.reason must be 'mediaStopped' when given", id);
      return { ok: true, message: { v: 1, type: 'unpublish', id, streamId: raw.streamId as string, reason: raw.reason as 'mediaStopped' | undefined } };
    }
    case 'subscribe': {
      const e = needRef('streamId') ?? optSdpCheck() ?? preferred();
      if (e) return e;
      return {
        ok: true,
        message: {
          v: 1,
          type: 'subscribe',
          id,
          streamId: raw.streamId as string,
          sdp: raw.sdp as string | undefined,
          subscribeToAudio: raw.subscribeToAudio as boolean | undefined,
          subscribeToVideo: raw.subscribeToVideo as boolean | undefined,
          preferredResolution: copyPrefRes,
          preferredFrameRate: raw.preferredFrameRate as number | null | undefined,
        },
      };
    }
    case 'unsubscribe': {
      const e = needRef('subscriberId');
      if (e) return e;
      return { ok: true, message: { v: 1, type: 'unsubscribe', id, subscriberId: raw.subscriberId as string } };
    }
    case 'subscription': {
      const e = needRef('subscriberId') ?? preferred();
      if (e) return e;
      return {
        ok: true,
        message: {
          v: 1,
          type: 'subscription',
          id,
          subscriberId: raw.subscriberId as string,
          subscribeToAudio: raw.subscribeToAudio as boolean | undefined,
          subscribeToVideo: raw.subscribeToVideo as boolean | undefined,
          preferredResolution: copyPrefRes,
          preferredFrameRate: raw.preferredFrameRate as number | null | undefined,
        },
      };
    }
    case 'candidate': {
      const e = needRef('target');
      if (e) return e;
      if (typeof raw.candidate !== 'string' || raw.candidate.length === 0 || raw.candidate.length > limits.candidateMaxLength)
        return bad(`candidate.candidate must be a non-empty string of at most ${limits.candidateMaxLength} characters`, id);
      if (typeof raw.mid !== 'string' || raw.mid.length > 64) return bad('candidate.mid must be a string of at most 64 characters', id);
      return { ok: true, message: { v: 1, type: 'candidate', id, target: raw.target as string, candidate: raw.candidate, mid: raw.mid } };
    }
    case 'peerSignal': {
      const e = needRef('subscriberId');
      if (e) return e;
      const d = raw.description;
      const c = raw.candidate;
      if ((d === undefined) === (c === undefined)) return bad('peerSignal needs exactly one of description and candidate', id);
      if (d !== undefined) {
        if (!isObj(d) || (d.type !== 'offer' && d.type !== 'answer')) return bad("peerSignal.description must be { type: 'offer' | 'answer', sdp }", id);
        const se = sdpCheck(d.sdp, 'peerSignal.description.sdp');
        if (se) return se;
        return { ok: true, message: { v: 1, type: 'peerSignal', id, subscriberId: raw.subscriberId as string, description: { type: d.type, sdp: d.sdp as string } } };
      }
      if (!isObj(c) || typeof c.candidate !== 'string' || c.candidate.length > limits.candidateMaxLength || typeof c.mid !== 'string' || c.mid.length > 64)
        return bad(`peerSignal.candidate must be { candidate: string (at most ${limits.candidateMaxLength} characters), mid: string (at most 64) }`, id);
      const line = c.candidate.startsWith('a=') ? c.candidate.slice(2) : c.candidate;
      if (line !== '' && !line.startsWith('candidate:')) return bad('peerSignal.candidate.candidate must start with "candidate:" (or be empty for end of candidates)', id);
      return { ok: true, message: { v: 1, type: 'peerSignal', id, subscriberId: raw.subscriberId as string, candidate: { candidate: c.candidate, mid: c.mid } } };
    }
    case 'streamUpdate': {
      const e = needRef('streamId');
      if (e) return e;
      if (!optBool(raw, 'hasAudio') || !optBool(raw, 'hasVideo')) return bad('streamUpdate.hasAudio and hasVideo must be booleans', id);
      if (raw.videoDimensions !== undefined && !isDims(raw.videoDimensions))
        return bad(`streamUpdate.videoDimensions must be { width, height } in pixels (1..${MAX_DIMENSION})`, id);
      if (raw.videoType !== undefined && !isVideoType(raw.videoType)) return bad(`streamUpdate.videoType must be one of ${VIDEO_TYPES.join(', ')}`, id);
      return {
        ok: true,
        message: {
          v: 1,
          type: 'streamUpdate',
          id,
          streamId: raw.streamId as string,
          hasAudio: raw.hasAudio as boolean | undefined,
          hasVideo: raw.hasVideo as boolean | undefined,
          videoDimensions: copyDims,
          videoType: raw.videoType as VideoType | undefined,
        },
      };
    }
    case 'forceUnpublish':
    case 'forceMuteStream': {
      const e = needRef('streamId');
      if (e) return e;
      return { ok: true, message: { v: 1, type: t, id, streamId: raw.streamId as string } };
    }
    case 'forceMuteAll': {
      const ex = raw.excludedStreamIds;
      if (ex !== undefined && (!Array.isArray(ex) || ex.length > limits.excludedStreamsMax || !ex.every(isRef)))
        return bad(`forceMuteAll.excludedStreamIds must be an array of at most ${limits.excludedStreamsMax} stream ids`, id);
      return { ok: true, message: { v: 1, type: 'forceMuteAll', id, excludedStreamIds: ex ? [...(ex as string[])] : [] } };
    }
    case 'disableForceMute':
      return { ok: true, message: { v: 1, type: 'disableForceMute', id } };
    default:
      return bad(`Unknown message type ${JSON.stringify(t).slice(0, 64)}`, id);
  }
}

/** Session names: 1..150 characters; returns the canonical (lower-case) form or an error message. */
export function normalizeSessionName(name: unknown): { ok: true; value: string } | { ok: false; message: string } {
  if (typeof name !== 'string' || name.length === 0) return { ok: false, message: 'Session name must be a non-empty string' };
  if ([...name].length > limits.sessionNameMaxLength)
    return { ok: false, message: `Session name exceeds ${limits.sessionNameMaxLength} characters` };
  return { ok: true, value: name.toLowerCase() };
}

/** Display names: truncated to 200 characters without error; empty becomes "null" as in the sessions guide. */
export function normalizeUserName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) return 'null';
  const chars = [...name];
  return chars.length > limits.userNameMaxLength ? chars.slice(0, limits.userNameMaxLength).join('') : name;
}

/** Passcodes: at most 10 printable ASCII characters. */
export function validatePasscode(p: unknown): string | null {
  if (typeof p !== 'string') return 'Passcode must be a string';
  if (p.length > limits.passcodeMaxLength) return `Passcode exceeds ${limits.passcodeMaxLength} characters`;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c < 32 || c > 126) return 'Passcode must contain printable ASCII characters only';
  }
  return null;
}

/** Signal checks with the reference's codes: 400 invalid, 413 too large. Returns null when valid. */
export function validateSignal(type: unknown, data: unknown): WireError | null {
  if (type !== undefined && typeof type !== 'string')
    return { name: ErrorName.InvalidParameter, code: ErrorCode.SignalInvalid, message: 'Signal type must be a string' };
  if (data !== undefined && typeof data !== 'string')
    return { name: ErrorName.InvalidParameter, code: ErrorCode.SignalInvalid, message: 'Signal data must be a string' };
  if (type !== undefined && type.length > limits.signalTypeMaxLength)
    return { name: ErrorName.TooLarge, code: ErrorCode.SignalTooLarge, message: `Signal type exceeds ${limits.signalTypeMaxLength} characters` };
  if (type !== undefined && !SIGNAL_TYPE_PATTERN.test(type))
    return { name: ErrorName.InvalidParameter, code: ErrorCode.SignalInvalid, message: 'Signal type may contain only A-Z, a-z, 0-9, -, _ and ~' };
  if (data !== undefined && utf8Length(data) > limits.signalDataMaxBytes)
    return { name: ErrorName.TooLarge, code: ErrorCode.SignalTooLarge, message: `Signal data exceeds ${limits.signalDataMaxBytes} bytes` };
  return null;
}

/** Idle timeout minutes: a positive number up to one week. */
export function validateIdleTimeoutMins(m: unknown): string | null {
  if (typeof m !== 'number' || !Number.isFinite(m) || m <= 0 || m > 7 * 24 * 60) return 'idleTimeoutMins must be a number in (0, 10080]';
  return null;
}
