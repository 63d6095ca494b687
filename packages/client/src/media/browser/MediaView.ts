import { cssSize, injectStyle, insertElement } from './dom.js';
import type { DisplayMode, FitMode, InsertMode, WidgetStyle } from './types.js';

/** What a view needs to draw itself. */
export interface ViewOptions {
  kind: 'publisher' | 'subscriber';
  id: string;
  name: string;
  width?: number | string | undefined;
  height?: number | string | undefined;
  fitMode: FitMode;
  mirror: boolean;
  showControls: boolean;
  style: WidgetStyle;
  /** false: only a bare `<video>`, no container in the document. */
  defaultUI: boolean;
  /** Local self-view: always muted (no echo of your own microphone). */
  muted: boolean;
}

const mode = (m: DisplayMode | undefined, fallback: DisplayMode): string => `OT_mode-${m === 'on' || m === 'off' || m === 'auto' ? m : fallback}`;

/**
 * The default UI of one stream: a container (`OT_root OT_publisher|OT_subscriber`)
 * holding the `<video>` (`OT_video-element`), a name label, a mute button, an
 * audio level meter, a poster shown while the video is off, and (subscribers)
 * a video-disabled indicator and an audio-blocked overlay. With `defaultUI`
 * false only the `<video>` exists and the application places it.
 */
export class MediaView {
  /** The `<video>` playing the stream. */
  readonly video: HTMLVideoElement;
  /** The container, or undefined without the default UI. */
  readonly root: HTMLElement | undefined;
  /** Called when the user clicks the mute button or the audio-blocked overlay. */
  onMuteClick: (() => void) | null = null;
  onUnblockClick: (() => void) | null = null;
  #meter: HTMLElement | undefined;
  #poster: HTMLElement | undefined;
  #name: HTMLElement | undefined;
  #button: HTMLButtonElement | undefined;

  constructor(o: ViewOptions) {
    const video = document.createElement('video');
    video.className = 'OT_video-element';
    video.autoplay = true;
    video.playsInline = true;
    video.muted = o.muted;
    video.setAttribute('playsinline', '');
    this.video = video;
    if (!o.defaultUI) {
      this.root = undefined;
      return;
    }
    injectStyle(document);
    const width = cssSize(o.width, 264, 'width');
    const height = cssSize(o.height, 198, 'height');
    const root = document.createElement('div');
    root.id = o.id;
    root.className = `OT_root OT_${o.kind} OT_loading`;
    root.style.width = width;
    root.style.height = height;
    this.root = root;
    this.setFitMode(o.fitMode);
    this.setMirror(o.mirror);
    if (!o.showControls) root.classList.add('OT_hide-controls');

    const poster = document.createElement('div');
    poster.className = 'OT_video-poster';
    this.#poster = poster;
    if (o.style.backgroundImageURI) this.setBackgroundImage(o.style.backgroundImageURI);
    const container = document.createElement('div');
    container.className = 'OT_widget-container';
    container.appendChild(video);

    const name = document.createElement('h1');
    name.className = `OT_name OT_edge ${mode(o.style.nameDisplayMode, 'auto')}`;
    name.textContent = o.name;
    if (!o.name) name.hidden = true;
    this.#name = name;

    const button = document.createElement('button');
    button.type = 'button';
    button.className = `OT_mute OT_edge ${mode(o.style.buttonDisplayMode, 'auto')}`;
    button.setAttribute('aria-label', 'Mute');
    button.addEventListener('click', () => this.onMuteClick?.());
    this.#button = button;

    const meter = document.createElement('div');
    meter.className = `OT_audio-level-meter OT_edge ${mode(o.style.audioLevelDisplayMode, 'auto')}`;
    const value = document.createElement('div');
    value.className = 'OT_audio-level-meter__value';
    meter.appendChild(value);
    this.#meter = value;

    root.append(poster, container, name, button, meter);
    if (o.kind === 'subscriber') {
      const indicator = document.createElement('div');
      indicator.className = `OT_video-disabled-indicator OT_edge ${mode(o.style.videoDisabledDisplayMode, 'auto').replace('OT_mode-auto', '')}`;
      indicator.textContent = 'Video paused: low bandwidth';
      const blocked = document.createElement('button');
      blocked.type = 'button';
      blocked.className = `OT_audio-blocked ${o.style.audioBlockedDisplayMode === 'off' ? 'OT_mode-off' : ''}`;
      blocked.textContent = 'Click to hear audio';
      blocked.addEventListener('click', () => this.onUnblockClick?.());
      root.append(indicator, blocked);
    }
  }

  /** Put the view in the document (no-op without the default UI). */
  insert(target: HTMLElement | undefined, insertMode: InsertMode): void {
    if (this.root) insertElement(this.root, target, insertMode);
  }

  /** Play `stream` in the `<video>`; resolves false if autoplay policy refused (audible) playback. */
  async play(stream: MediaStream): Promise<boolean> {
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    try {
      await this.video.play();
      return true;
    } catch (err) {
      if ((err as { name?: string }).name !== 'NotAllowedError') return true; // AbortError: replaced or removed meanwhile
      return false;
    }
  }

  /** Playback started: drop the loading state. */
  loaded(): void {
    this.root?.classList.remove('OT_loading');
  }

  setFitMode(fit: FitMode): void {
    if (!this.root) return;
    this.root.classList.remove('OT_fit-mode-cover', 'OT_fit-mode-contain');
    this.root.classList.add(`OT_fit-mode-${fit}`);
  }

  setMirror(on: boolean): void {
    this.root?.classList.toggle('OT_mirrored', on);
  }

  /** Show the poster (avatar or background image) instead of the video. */
  setVideoDisabled(off: boolean): void {
    this.root?.classList.toggle('OT_video-disabled', off);
  }

  /** Show the "video disabled for quality" indicator. */
  setQualityDisabled(on: boolean): void {
    this.root?.classList.toggle('OT_video-disabled-quality', on);
  }

  setAudioMuted(muted: boolean): void {
    this.root?.classList.toggle('OT_audio-muted', muted);
    this.#button?.setAttribute('aria-label', muted ? 'Unmute' : 'Mute');
    this.#button?.setAttribute('aria-pressed', String(muted));
  }

  setAudioBlocked(blocked: boolean): void {
    this.root?.classList.toggle('OT_audio-blocked-active', blocked);
  }

  setName(name: string): void {
    if (!this.#name) return;
    this.#name.textContent = name;
    this.#name.hidden = !name;
  }

  setBackgroundImage(uri: string): void {
    // Only image URIs: an invalid value is ignored, as the reference says.
    if (this.#poster && /^(https?:|data:image\/)/.test(uri)) this.#poster.style.backgroundImage = `url(${JSON.stringify(uri)})`;
  }

  /** Draw the meter (0..1) on a log-ish scale so speech is visible. */
  setAudioLevel(level: number): void {
    if (!this.#meter) return;
    const shown = Math.min(1, Math.max(0, Math.log10(1 + level * 9)));
    this.#meter.style.transform = `scaleY(${shown.toFixed(3)})`;
  }

  /** Take the view out of the document and release the stream. */
  remove(): void {
    this.video.pause();
    this.video.srcObject = null;
    (this.root ?? this.video).remove();
  }
}
