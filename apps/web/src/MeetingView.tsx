import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { roleLabel } from './JoinForm.js';
import { CHAT_MAX_CHARS, type Meeting, type MeetingState, type Member, type Tile } from './meeting.js';
import { Icon } from './icons.js';
import { initials } from './Preview.js';

/** The gallery shows at most this many tiles per page. */
export const PAGE_SIZE = 25;

/** Hosts the SDK's `<video>` element (insertDefaultUI: false) inside our own tile. */
function VideoSlot({ video, mirror, fit }: { video: HTMLVideoElement; mirror: boolean; fit: 'cover' | 'contain' }) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const host = ref.current;
    if (!host) return;
    video.playsInline = true;
    video.autoplay = true;
    video.className = `${mirror ? 'mirror ' : ''}fit-${fit}`;
    if (video.parentElement !== host) host.replaceChildren(video);
    void video.play().catch(() => {});
  }, [video, mirror, fit]);
  return <div ref={ref} class="slot" />;
}

function TileView({ tile, speaking, large }: { tile: Tile; speaking: boolean; large?: boolean }) {
  const label = tile.kind === 'screen' ? (tile.isSelf ? 'Your screen' : `${tile.name || 'Guest'}'s screen`) : `${tile.name || 'Guest'}${tile.isSelf ? ' (you)' : ''}`;
  return (
    <figure class={`tile ${speaking ? 'speaking' : ''} ${large ? 'large' : ''}`} aria-label={label} data-user={tile.userId} data-kind={tile.kind} data-speaking={speaking ? 'true' : 'false'}>
      {tile.video && (tile.hasVideo || tile.kind === 'screen') ? (
        <VideoSlot video={tile.video} mirror={tile.isSelf && tile.kind === 'camera'} fit={tile.kind === 'screen' ? 'contain' : 'cover'} />
      ) : (
        <div class="avatar" aria-hidden="true" style={{ background: colorFor(tile.userId) }}>
          {initials(tile.name || 'Guest')}
        </div>
      )}
      {tile.video && !tile.hasVideo && tile.kind === 'camera' && (
        // Keep the element in the document so its audio plays while the camera is off.
        <VideoSlot video={tile.video} mirror={false} fit="cover" />
      )}
      <figcaption>
        {tile.kind === 'camera' && !tile.hasAudio && (
          <span class="muted" role="img" aria-label="microphone off">
            <Icon name="micOff" size={15} />
          </span>
        )}
        {speaking && <span class="sr-only">speaking</span>}
        {label}
      </figcaption>
    </figure>
  );
}

function colorFor(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360} 45% 38%)`;
}

function Gallery({ state }: { state: MeetingState }) {
  const cams = state.tiles.filter((t) => t.kind === 'camera');
  const screens = state.tiles.filter((t) => t.kind === 'screen');
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(cams.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const shown = cams.slice(current * PAGE_SIZE, current * PAGE_SIZE + PAGE_SIZE);
  const n = shown.length;
  const cols = screens.length > 0 ? 1 : Math.ceil(Math.sqrt(n));
  return (
    <section class={`stage ${screens.length > 0 ? 'sharing' : ''}`} aria-label="Videos">
      {screens.length > 0 && (
        <div class="screen-share">
          {screens.map((t) => (
            <TileView key={t.key} tile={t} speaking={false} large />
          ))}
        </div>
      )}
      <div class="gallery" style={{ '--cols': String(cols) }} data-count={n}>
        {shown.map((t) => (
          <TileView key={t.key} tile={t} speaking={state.activeSpeaker === t.userId} />
        ))}
      </div>
      {pages > 1 && (
        <nav class="pager" aria-label="Gallery pages">
          <button type="button" onClick={() => setPage(current - 1)} disabled={current === 0}>
            Previous page
          </button>
          <span aria-live="polite">
            Page {current + 1} of {pages}
          </span>
          <button type="button" onClick={() => setPage(current + 1)} disabled={current >= pages - 1}>
            Next page
          </button>
        </nav>
      )}
    </section>
  );
}

function state3(v: boolean | null, on: string, off: string, none: string): { text: string; cls: string } {
  return v === null ? { text: none, cls: 'none' } : v ? { text: on, cls: 'on' } : { text: off, cls: 'off' };
}

function MemberRow({ m, meeting, state }: { m: Member; meeting: Meeting; state: MeetingState }) {
  const [open, setOpen] = useState(false);
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(m.displayName);
  const caps = state.caps;
  const canRename = !!caps?.canRename && !m.isSelf;
  const canMute = !!caps?.canMuteUser && !m.isSelf;
  const canRemove = !!caps?.canRemoveUser && !m.isSelf && !m.isHost;
  const canMakeHost = !!caps?.canMakeHost && !m.isSelf;
  const canManagers = !!caps?.canManageManagers && !m.isSelf && !m.isHost;
  const any = canRename || canMute || canRemove || canMakeHost || canManagers;
  const audio = state3(m.audioOn, 'microphone on', 'microphone off', 'no microphone');
  const video = state3(m.videoOn, 'camera on', 'camera off', 'no camera');
  const roleText = m.isHost ? 'Host' : m.isManager ? 'Manager' : roleLabel(m.role);
  const act = (fn: () => Promise<void>) => () => {
    setOpen(false);
    void fn();
  };
  const menuId = `menu-${m.userId}`;
  return (
    <li class="member" data-user={m.userId}>
      <div class="who">
        <span class="avatar small" aria-hidden="true" style={{ background: colorFor(m.userId) }}>
          {initials(m.displayName || 'Guest')}
        </span>
        <span class="name">
          {m.displayName || 'Guest'}
          {m.isSelf && ' (you)'}
        </span>
        <span class={`badge ${m.isHost ? 'host' : m.isManager ? 'manager' : ''}`}>{roleText}</span>
      </div>
      <div class="states">
        <span class={`state ${audio.cls}`} role="img" aria-label={audio.text} title={audio.text}>
          <Icon name={m.audioOn === false ? 'micOff' : 'mic'} />
        </span>
        <span class={`state ${video.cls}`} role="img" aria-label={video.text} title={video.text}>
          <Icon name={m.videoOn === false ? 'camOff' : 'cam'} />
        </span>
        {m.sharing && (
          <span class="state on" role="img" aria-label="sharing screen" title="sharing screen">
            <Icon name="screen" />
          </span>
        )}
        {any && (
          <button type="button" class="icon-btn" aria-haspopup="true" aria-expanded={open} aria-controls={menuId} onClick={() => setOpen(!open)}>
            <Icon name="more" />
            <span class="sr-only">Actions for {m.displayName || 'Guest'}</span>
          </button>
        )}
      </div>
      {open && (
        <div id={menuId} class="menu" role="group" aria-label={`Actions for ${m.displayName || 'Guest'}`} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
          {canMute && m.audioOn !== false && <button onClick={act(() => meeting.muteUser(m.userId))}>Mute</button>}
          {canMute && <button onClick={act(() => meeting.askUnmute(m.userId))}>Ask to unmute</button>}
          {canRename && (
            <button
              onClick={() => {
                setOpen(false);
                setRenaming(true);
              }}
            >
              Rename
            </button>
          )}
          {canMakeHost && <button onClick={act(() => meeting.makeHost(m.userId))}>Make host</button>}
          {canManagers && !m.isManager && <button onClick={act(() => meeting.makeManager(m.userId))}>Make manager</button>}
          {canManagers && m.isManager && <button onClick={act(() => meeting.revokeManager(m.userId))}>Revoke manager</button>}
          {canRemove && (
            <button class="danger" onClick={act(() => meeting.removeUser(m.userId))}>
              Remove
            </button>
          )}
        </div>
      )}
      {renaming && (
        <form
          class="rename"
          onSubmit={(e) => {
            e.preventDefault();
            setRenaming(false);
            if (name.trim()) void meeting.rename(m.userId, name.trim());
          }}
        >
          <label for={`rn-${m.userId}`}>New name for {m.displayName}</label>
          <input id={`rn-${m.userId}`} value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} autoFocus />
          <button type="submit">Save</button>
          <button type="button" onClick={() => setRenaming(false)}>
            Cancel
          </button>
        </form>
      )}
    </li>
  );
}

function People({ meeting, state }: { meeting: Meeting; state: MeetingState }) {
  return (
    <section class="panel people" aria-labelledby="people-title">
      <h2 id="people-title">
        People <span class="count">({state.members.length})</span>
      </h2>
      <ul>
        {state.members.map((m) => (
          <MemberRow key={m.userId} m={m} meeting={meeting} state={state} />
        ))}
      </ul>
    </section>
  );
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function Chat({ meeting, state }: { meeting: Meeting; state: MeetingState }) {
  const [text, setText] = useState('');
  const log = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const el = log.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [state.chat.length]);
  return (
    <section class="panel chat" aria-labelledby="chat-title">
      <h2 id="chat-title">Chat</h2>
      {!state.signalsAvailable && <p class="hint">Chat is not available with this SDK build.</p>}
      <ol ref={log} class="messages" aria-live="polite" aria-label="Chat messages">
        {state.chat.map((m) => (
          <li key={m.id} class={m.self ? 'self' : ''}>
            <span class="from">{m.self ? 'You' : m.fromName}</span> <time dateTime={new Date(m.at).toISOString()}>{timeFmt.format(m.at)}</time>
            <p>{m.text}</p>
          </li>
        ))}
      </ol>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const t = text;
          setText('');
          void meeting.sendChat(t);
        }}
      >
        <label for="chat-input" class="sr-only">
          Message
        </label>
        <input id="chat-input" placeholder="Message everyone" autoComplete="off" maxLength={CHAT_MAX_CHARS} value={text} disabled={!state.signalsAvailable} onInput={(e) => setText(e.currentTarget.value)} />
        <button type="submit" disabled={!state.signalsAvailable || !text.trim()}>
          Send
        </button>
      </form>
    </section>
  );
}

function Controls({ meeting, state, panel, setPanel, unread }: { meeting: Meeting; state: MeetingState; panel: string; setPanel: (p: 'people' | 'chat' | '') => void; unread: number }) {
  const [confirmEnd, setConfirmEnd] = useState(false);
  const shareBlocked = meeting.shareBlockedReason();
  const caps = state.caps;
  const canPublish = caps?.canPublish !== false;
  return (
    <nav class="controls" aria-label="Meeting controls">
      {canPublish && (
        <>
          <button type="button" class={`ctl ${state.micOn ? '' : 'off'}`} aria-pressed={!state.micOn} onClick={() => meeting.toggleMic()}>
            {state.micOn ? 'Mute' : 'Unmute'}
          </button>
          <button type="button" class={`ctl ${state.camOn ? '' : 'off'}`} aria-pressed={!state.camOn} onClick={() => meeting.toggleCam()}>
            {state.camOn ? 'Stop video' : 'Start video'}
          </button>
          <button
            type="button"
            class={`ctl ${state.sharing ? 'on' : ''}`}
            aria-pressed={state.sharing}
            disabled={!state.sharing && shareBlocked !== null}
            title={shareBlocked ?? undefined}
            onClick={() => (state.sharing ? meeting.stopShare() : meeting.startShare())}
          >
            {state.sharing ? 'Stop sharing' : 'Share screen'}
          </button>
        </>
      )}
      <button type="button" class="ctl" aria-pressed={panel === 'people'} onClick={() => setPanel(panel === 'people' ? '' : 'people')}>
        People ({state.members.length})
      </button>
      <button type="button" class="ctl" aria-pressed={panel === 'chat'} onClick={() => setPanel(panel === 'chat' ? '' : 'chat')}>
        Chat{unread > 0 ? ` (${unread} new)` : ''}
      </button>
      {caps?.canMuteUser && (
        <button type="button" class="ctl" onClick={() => void meeting.muteAll()}>
          Mute all
        </button>
      )}
      {caps?.canLockShare && (
        <button type="button" class="ctl" aria-pressed={state.shareLocked} onClick={() => void meeting.setShareLock(!state.shareLocked)}>
          {state.shareLocked ? 'Unlock sharing' : 'Lock sharing'}
        </button>
      )}
      {caps?.canEndSession &&
        (confirmEnd ? (
          <span class="confirm" role="group" aria-label="End the session for everyone?">
            <button type="button" class="ctl danger" onClick={() => void meeting.leave(true)} autoFocus>
              Confirm end
            </button>
            <button type="button" class="ctl" onClick={() => setConfirmEnd(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" class="ctl danger" onClick={() => setConfirmEnd(true)}>
            End for everyone
          </button>
        ))}
      <button type="button" class="ctl leave" onClick={() => void meeting.leave(false)}>
        Leave
      </button>
    </nav>
  );
}

/** The in-session screen. */
export function MeetingView({ meeting, state }: { meeting: Meeting; state: MeetingState }) {
  const wide = typeof matchMedia === 'function' && matchMedia('(min-width: 900px)').matches;
  const [panel, setPanel] = useState<'people' | 'chat' | ''>(wide ? 'people' : '');
  const [seen, setSeen] = useState(0);
  useEffect(() => {
    if (panel === 'chat') setSeen(state.chat.length);
  }, [panel, state.chat.length]);
  return (
    <div class="meeting">
      <header class="topbar">
        <h1>{state.topic}</h1>
        <span class="hint">
          {state.members.length} {state.members.length === 1 ? 'person' : 'people'}
          {state.isHost ? ' · you are the host' : state.isManager ? ' · you are a manager' : ''}
          {state.shareLocked ? ' · sharing locked' : ''}
        </span>
      </header>
      {state.reconnecting && (
        <p class="banner warn" role="alert">
          Connection lost. Reconnecting…
        </p>
      )}
      <div class={`body ${panel ? 'with-panel' : ''}`}>
        <Gallery state={state} />
        {panel === 'people' && <People meeting={meeting} state={state} />}
        {panel === 'chat' && <Chat meeting={meeting} state={state} />}
      </div>
      <Controls meeting={meeting} state={state} panel={panel} setPanel={setPanel} unread={Math.max(0, state.chat.length - seen)} />
    </div>
  );
}

/** Toasts: what happened to you (muted, host changed, reconnected...). */
export function Notices({ state, meeting }: { state: MeetingState; meeting: Meeting }) {
  return (
    <div class="notices" role="status" aria-live="polite">
      {state.notices.map((n) => (
        <div key={n.id} class={`notice ${n.tone}`}>
          <span>{n.text}</span>
          {n.action && (
            <button
              type="button"
              onClick={() => {
                n.action!.run();
                meeting.dismiss(n.id);
              }}
            >
              {n.action.label}
            </button>
          )}
          <button type="button" class="icon-btn" onClick={() => meeting.dismiss(n.id)}>
            <Icon name="close" size={16} />
            <span class="sr-only">Dismiss</span>
          </button>
        </div>
      ))}
    </div>
  );
}
