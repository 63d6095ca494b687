import { mediaError, MediaErrorName } from './mediaErrors.js';
import type { InsertMode, TargetElement } from './types.js';

// One small stylesheet for every widget. `OT_mode-auto` controls show on hover/focus;
// the audio meter in `auto` mode shows while the video is off.
const CSS = `.OT_root{position:relative;display:inline-block;overflow:hidden;background:#1f1f1f;color:#fff;font:13px/1.3 system-ui,sans-serif;vertical-align:top;box-sizing:border-box}
.OT_root *{box-sizing:border-box}
.OT_widget-container{position:absolute;inset:0}
.OT_root .OT_video-element{display:block;width:100%;height:100%;background:transparent}
.OT_fit-mode-cover .OT_video-element{object-fit:cover}
.OT_fit-mode-contain .OT_video-element{object-fit:contain}
.OT_mirrored .OT_video-element{transform:scaleX(-1)}
.OT_video-poster{position:absolute;inset:0;display:none;background:#2b2b2b center/cover no-repeat}
.OT_video-poster:not([style*=url])::after{content:"";position:absolute;left:50%;top:45%;width:30%;max-width:96px;aspect-ratio:1;border-radius:50%;background:#555;transform:translate(-50%,-50%)}
.OT_video-disabled .OT_video-poster{display:block}
.OT_video-disabled .OT_widget-container{visibility:hidden}
.OT_name{position:absolute;top:0;left:0;right:0;margin:0;padding:4px 36px 4px 8px;font-size:13px;font-weight:600;background:rgba(0,0,0,.5);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.OT_mute{position:absolute;top:2px;right:4px;width:28px;height:22px;border:0;border-radius:4px;background:rgba(0,0,0,.55);color:#fff;font-size:12px;cursor:pointer}
.OT_mute::before{content:"\\1F50A"}
.OT_audio-muted .OT_mute::before{content:"\\1F507"}
.OT_audio-level-meter{position:absolute;left:6px;bottom:6px;width:8px;height:40%;border-radius:4px;background:rgba(0,0,0,.45);overflow:hidden}
.OT_audio-level-meter__value{position:absolute;inset:0;background:#43c463;transform-origin:bottom;transform:scaleY(0)}
.OT_video-disabled-indicator{position:absolute;right:6px;bottom:6px;display:none;padding:2px 6px;border-radius:4px;background:rgba(0,0,0,.6);font-size:11px}
.OT_video-disabled-quality .OT_video-disabled-indicator,.OT_video-disabled-indicator.OT_mode-on{display:block}
.OT_audio-blocked{position:absolute;inset:0;display:none;align-items:center;justify-content:center;border:0;background:rgba(0,0,0,.45);color:#fff;font:inherit;cursor:pointer}
.OT_audio-blocked-active .OT_audio-blocked{display:flex}
.OT_root .OT_mode-auto{opacity:0;transition:opacity .2s}
.OT_root:hover .OT_mode-auto,.OT_root:focus-within .OT_mode-auto{opacity:1}
.OT_audio-level-meter.OT_mode-auto{display:none;opacity:1}
.OT_video-disabled .OT_audio-level-meter.OT_mode-auto{display:block}
.OT_root .OT_mode-off,.OT_hide-controls .OT_edge{display:none}`;

let styleFor: Document | null = null;

/** Add the widget stylesheet to `doc` once. */
export function injectStyle(doc: Document): void {
  if (styleFor === doc || doc.getElementById('OT_styles')) return;
  const s = doc.createElement('style');
  s.id = 'OT_styles';
  s.textContent = CSS;
  doc.head.appendChild(s);
  styleFor = doc;
}

/** Normalise a width/height property: 400 / '400px' -> '400px', '100%' stays; throws OT_INVALID_PARAMETER. */
export function cssSize(v: number | string | undefined, fallback: number, what: string): string {
  if (v === undefined || v === null) return `${fallback}px`;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return `${v}px`;
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(px|%)?\s*$/.exec(v);
    if (m) return `${m[1]}${m[2] ?? 'px'}`;
  }
  throw mediaError(MediaErrorName.InvalidParameter, `Invalid ${what} ${JSON.stringify(v)}: use a number of pixels, "NNpx" or "NN%"`);
}

/** The element a target argument names; throws OT_INVALID_PARAMETER if an id matches nothing. */
export function resolveTarget(target: TargetElement): HTMLElement | undefined {
  if (target === undefined || target === null || target === '') return undefined;
  if (typeof target === 'string') {
    const el = document.getElementById(target);
    if (!el) throw mediaError(MediaErrorName.InvalidParameter, `No element with id "${target}" in the document`);
    return el;
  }
  if (typeof HTMLElement !== 'undefined' && target instanceof HTMLElement) return target;
  throw mediaError(MediaErrorName.InvalidParameter, 'targetElement must be an HTMLElement or the id of one');
}

const MODES = new Set<InsertMode>(['replace', 'after', 'before', 'append']);

/** Validate an insertMode property (default `replace`). */
export function insertModeOf(v: unknown): InsertMode {
  if (v === undefined) return 'replace';
  if (typeof v === 'string' && MODES.has(v as InsertMode)) return v as InsertMode;
  throw mediaError(MediaErrorName.InvalidParameter, `Invalid insertMode ${JSON.stringify(v)}: use replace, after, before or append`);
}

/**
 * Put `el` in the document relative to `target`: replace its contents, after it,
 * before it, or as its last child; with no target, at the end of `<body>`.
 */
export function insertElement(el: HTMLElement, target: HTMLElement | undefined, mode: InsertMode): void {
  if (!target) {
    document.body.appendChild(el);
    return;
  }
  switch (mode) {
    case 'replace':
      target.replaceChildren(el);
      break;
    case 'after':
      target.after(el);
      break;
    case 'before':
      target.before(el);
      break;
    case 'append':
      target.appendChild(el);
      break;
  }
}

/** `OT_` followed by a random id, for element ids and object ids. */
export function newId(): string {
  return `OT_${globalThis.crypto.randomUUID()}`;
}
