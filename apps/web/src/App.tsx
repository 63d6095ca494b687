import { useEffect, useMemo, useState } from 'preact/hooks';
import { detectDevMode, fetchDevToken, givenGrant, listenForGrant, type Grant } from './auth.js';
import { JoinForm, type JoinDetails } from './JoinForm.js';
import { Meeting, type EndReason, type JoinMedia, type MeetingState } from './meeting.js';
import { MeetingView, Notices } from './MeetingView.js';
import { Preview } from './Preview.js';
import { checkSupport } from './sdk.js';

type Screen = 'loading' | 'join' | 'preview' | 'meeting' | 'ended';

const END_TEXT: Record<EndReason, { title: string; body: string }> = {
  left: { title: 'You left the session', body: 'You can join again whenever you like.' },
  endedByMe: { title: 'You ended the session for everyone', body: 'Everyone was disconnected.' },
  ended: { title: 'The host ended the session', body: 'The session is over for everyone.' },
  kicked: { title: 'You were removed from the session', body: 'A host or manager removed you.' },
  idleTimeout: { title: 'The session ended after being idle', body: 'It closed because the host was alone for too long.' },
  network: { title: 'Connection lost', body: 'The connection to the server dropped and could not be restored.' },
  failed: { title: 'Could not join', body: '' },
};

/** Session errors in words a person can act on. */
function joinErrorText(err: unknown): string {
  const e = err as { name?: string; code?: number; message?: string };
  const m = e.message ?? String(err);
  if (/passcode/i.test(m)) return 'The passcode is wrong or missing. Check it and try again.';
  if (e.name === 'OT_AUTHENTICATION_ERROR' || e.code === 1004) return `The server refused the access token: ${m}`;
  if (e.name === 'OT_CONNECT_FAILED' || e.code === 1006) return 'Could not reach the server. Check your connection and try again.';
  return m;
}

export function App() {
  const support = useMemo(() => checkSupport(), []);
  const [screen, setScreen] = useState<Screen>('loading');
  const [devMode, setDevMode] = useState(false);
  const [given, setGiven] = useState<Grant | null>(null);
  const [grant, setGrant] = useState<Grant | null>(null);
  const [details, setDetails] = useState<JoinDetails | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [meeting, setMeeting] = useState<Meeting | null>(null);
  const [ms, setMs] = useState<MeetingState | null>(null);

  useEffect(() => {
    const g = givenGrant();
    setGiven(g);
    let stop = (): void => {};
    void detectDevMode().then((dev) => {
      setDevMode(dev);
      setScreen('join');
      if (!dev && !g) stop = listenForGrant((pg) => setGiven(pg));
    });
    return () => stop();
  }, []);

  // Leave cleanly when the tab closes (sessions guide: leaveOnPageUnload).
  useEffect(() => {
    if (!meeting) return;
    const onHide = (): void => void meeting.leave(false);
    window.addEventListener('pagehide', onHide);
    return () => window.removeEventListener('pagehide', onHide);
  }, [meeting]);

  const onSubmit = async (d: JoinDetails): Promise<void> => {
    setError('');
    setBusy(true);
    try {
      const g = given ? { ...given, userName: d.userName } : await fetchDevToken(d.sessionName, d.userName, d.role);
      setGrant(g);
      setDetails(d);
      setScreen('preview');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const onJoin = async (media: JoinMedia): Promise<void> => {
    if (!grant || !details) return;
    const m = new Meeting(grant, { userName: details.userName, passcode: details.passcode, media });
    m.onChange = () => setMs(m.state);
    setMeeting(m);
    setMs(m.state);
    setScreen('meeting');
    try {
      await m.join();
    } catch (err) {
      setError(joinErrorText(err));
    }
  };

  useEffect(() => {
    if (ms?.phase === 'ended' && screen === 'meeting') setScreen('ended');
  }, [ms?.phase]);

  const again = (): void => {
    setMeeting(null);
    setMs(null);
    setScreen('join');
  };

  if (screen === 'loading') return <p class="loading">Loading…</p>;
  if (screen === 'join') {
    return (
      <JoinForm
        key={given?.token ?? 'no-token'}
        devMode={devMode}
        initial={{ ...details, sessionName: given?.sessionName ?? details?.sessionName, userName: details?.userName ?? given?.userName }}
        fixedSession={!!given}
        waitingForToken={!devMode && !given && window.parent !== window}
        support={support}
        error={error}
        busy={busy}
        onSubmit={(d) => void onSubmit(d)}
      />
    );
  }
  if (screen === 'preview' && details) {
    return (
      <Preview
        sessionName={details.sessionName}
        userName={details.userName}
        canPublish={!devMode || details.role !== 'subscriber'}
        mediaSupported={support.media}
        onJoin={(m) => void onJoin(m)}
        onBack={() => setScreen('join')}
      />
    );
  }
  if (screen === 'meeting' && meeting && ms) {
    return (
      <>
        {ms.phase === 'joining' ? <p class="loading" role="status">Joining “{ms.topic}”…</p> : <MeetingView meeting={meeting} state={ms} />}
        <Notices meeting={meeting} state={ms} />
      </>
    );
  }
  const reason = ms?.endReason ?? 'left';
  const text = END_TEXT[reason];
  return (
    <main class="card ended" aria-labelledby="ended-title">
      <h1 id="ended-title">{text.title}</h1>
      <p>{reason === 'failed' ? error || ms?.endDetail : text.body}</p>
      <button type="button" class="primary" onClick={again} autoFocus>
        Join again
      </button>
    </main>
  );
}
