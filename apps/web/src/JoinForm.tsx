import { useState } from 'preact/hooks';
import { DEV_ROLES, type DevRole } from './auth.js';

export interface JoinDetails {
  sessionName: string;
  userName: string;
  passcode: string;
  role: DevRole;
}

/** Printable ASCII, at most 10 characters (the sessions guide's passcode rule). */
const PASSCODE = /^[\x20-\x7e]{0,10}$/;

/**
 * The first screen: session, name, optional passcode, and (dev mode) a role.
 * In production the session comes with the token and cannot be changed here.
 */
export function JoinForm(props: {
  devMode: boolean;
  initial: Partial<JoinDetails>;
  fixedSession: boolean;
  waitingForToken: boolean;
  support: { ok: boolean; reason?: string };
  error: string;
  busy: boolean;
  onSubmit: (d: JoinDetails) => void;
}) {
  const [sessionName, setSessionName] = useState(props.initial.sessionName ?? '');
  const [userName, setUserName] = useState(props.initial.userName ?? '');
  const [passcode, setPasscode] = useState(props.initial.passcode ?? '');
  const [role, setRole] = useState<DevRole>(props.initial.role ?? 'host');
  const [problem, setProblem] = useState('');
  const canJoin = props.support.ok && (props.devMode || props.fixedSession);

  const submit = (e: Event): void => {
    e.preventDefault();
    if (!sessionName.trim()) return setProblem('Enter a session name.');
    if (!userName.trim()) return setProblem('Enter your display name.');
    if (!PASSCODE.test(passcode)) return setProblem('The passcode is at most 10 printable characters.');
    setProblem('');
    props.onSubmit({ sessionName: sessionName.trim(), userName: userName.trim(), passcode, role });
  };

  const message = problem || props.error;
  return (
    <main class="card join" aria-labelledby="join-title">
      <h1 id="join-title">Join a session</h1>
      {!props.support.ok && <p class="alert error" role="alert">{props.support.reason}</p>}
      {props.support.ok && props.support.reason && <p class="alert warn">{props.support.reason}</p>}
      {!props.devMode && !props.fixedSession && (
        <p class="alert info" role="status">
          {props.waitingForToken
            ? 'Waiting for the page that embeds this meeting to provide an access token…'
            : 'This server runs in production mode: open the meeting link you were given (it carries an access token).'}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <label for="f-session">Session name</label>
        <input
          id="f-session"
          name="session"
          autoComplete="off"
          maxLength={150}
          required
          value={sessionName}
          readOnly={props.fixedSession}
          autoFocus={!props.fixedSession}
          onInput={(e) => setSessionName(e.currentTarget.value)}
        />
        <label for="f-name">Display name</label>
        <input id="f-name" name="name" autoComplete="name" maxLength={200} required autoFocus={props.fixedSession} value={userName} onInput={(e) => setUserName(e.currentTarget.value)} />
        <label for="f-pass">
          Passcode <span class="hint">(optional)</span>
        </label>
        <input
          id="f-pass"
          name="passcode"
          autoComplete="off"
          maxLength={10}
          value={passcode}
          aria-describedby="f-pass-hint"
          onInput={(e) => setPasscode(e.currentTarget.value)}
        />
        <p id="f-pass-hint" class="hint">
          Starting a session sets its passcode; joining one that has a passcode needs it.
        </p>
        {props.devMode && (
          <>
            <label for="f-role">Role</label>
            <select id="f-role" name="role" value={role} onChange={(e) => setRole(e.currentTarget.value as DevRole)}>
              {DEV_ROLES.map((r) => (
                <option key={r} value={r}>
                  {roleLabel(r)}
                </option>
              ))}
            </select>
            <p class="hint">Dev mode: the server mints a token for the role you pick.</p>
          </>
        )}
        {message && (
          <p class="alert error" role="alert">
            {message}
          </p>
        )}
        <button type="submit" class="primary" disabled={!canJoin || props.busy}>
          Join
        </button>
      </form>
    </main>
  );
}

export function roleLabel(r: string): string {
  switch (r) {
    case 'host':
      return 'Host';
    case 'publisher':
      return 'Participant';
    case 'moderator':
      return 'Moderator';
    case 'subscriber':
      return 'Viewer (no camera or microphone)';
    default:
      return r;
  }
}
