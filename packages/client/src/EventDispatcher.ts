import type { ConveneEvent } from './ConveneEvent.js';
import { createLogger, type Logger } from './logger.js';

/** Event-name-to-event-object map of a dispatcher. */
export type EventObjectMap = { [type: string]: ConveneEvent };

/** A handler as the reference defines it: called with the event object, `this` = context. */
export type EventHandler<Ev = ConveneEvent> = (event: Ev) => void;

/** The hash-map form of on/once/off: `{ eventName: handler, ... }`. */
export type HandlerMap<E extends EventObjectMap> = { [K in keyof E]?: EventHandler<E[K]> } & {
  [type: string]: EventHandler<never> | undefined;
};

interface Registration {
  handler: EventHandler<never>;
  context: unknown;
  /** Shared by every event name one `once()` call registered: the first one to fire removes them all. */
  onceGroup?: { fired: boolean; names: string[] };
}

const splitNames = (types: string): string[] => types.split(/\s+/).filter((t) => t.length > 0);

/**
 * The reference's EventDispatcher: `on`/`once`/`off` with space-separated
 * names, a hash-map form, an optional context (the handler's `this`), `off()`
 * with no arguments, and the deprecated `addEventListener`/`removeEventListener`.
 *
 * A handler that throws is logged and skipped: the other handlers still run and
 * the SDK's own state (updated before dispatch) is untouched.
 */
export class EventDispatcher<E extends EventObjectMap> {
  #registrations = new Map<string, Registration[]>();
  readonly #log: Logger;

  constructor(loggerName = 'events') {
    this.#log = createLogger(loggerName);
  }

  /**
   * Add a handler for one or more events.
   * @example session.on('signal:chat', (e) => show(e.data));
   * @example session.on({ sessionConnected: onConnected, sessionDisconnected: onGone }, app);
   */
  on<K extends keyof E & string>(type: K, handler: EventHandler<E[K]>, context?: unknown): this;
  on(type: string, handler: EventHandler<never>, context?: unknown): this;
  on(map: HandlerMap<E>, context?: unknown): this;
  on(a: string | HandlerMap<E>, b?: unknown, c?: unknown): this {
    this.#add(a, b, c, false, 'on');
    return this;
  }

  /** Add a handler that runs once, for the first of the named events to occur. */
  once<K extends keyof E & string>(type: K, handler: EventHandler<E[K]>, context?: unknown): this;
  once(type: string, handler: EventHandler<never>, context?: unknown): this;
  once(map: HandlerMap<E>, context?: unknown): this;
  once(a: string | HandlerMap<E>, b?: unknown, c?: unknown): this {
    this.#add(a, b, c, true, 'once');
    return this;
  }

  /**
   * Remove handlers: `off()` removes all, `off('a b')` all for those events,
   * `off('a', fn)` one handler, `off('a', fn, ctx)` / `off('a', undefined, ctx)` those with that context,
   * `off({ a: fn })` the hash-map form.
   */
  off<K extends keyof E & string>(type?: K, handler?: EventHandler<E[K]>, context?: unknown): this;
  off(type?: string, handler?: EventHandler<never>, context?: unknown): this;
  off(map: HandlerMap<E>, context?: unknown): this;
  off(a?: string | HandlerMap<E>, b?: unknown, c?: unknown): this {
    if (a === undefined && b === undefined && c === undefined) {
      this.#registrations.clear();
      return this;
    }
    if (typeof a === 'object' && a !== null) {
      for (const [name, fn] of Object.entries(a)) {
        if (fn !== undefined) this.#remove(splitNames(name), fn as EventHandler<never>, b);
      }
      return this;
    }
    if (typeof a !== 'string') throw new TypeError('off(): type must be a string or a map of handlers');
    if (b !== undefined && typeof b !== 'function') throw new TypeError('off(): handler must be a function');
    this.#remove(splitNames(a), b as EventHandler<never> | undefined, c);
    return this;
  }

  /** @deprecated Use `on()`. */
  addEventListener(type: string, listener: EventHandler<never>, context?: unknown): void {
    if (typeof listener !== 'function') throw new TypeError('addEventListener(): listener must be a function');
    this.on(type, listener, context);
  }

  /** @deprecated Use `off()`. */
  removeEventListener(type: string, listener: EventHandler<never>, context?: unknown): void {
    if (typeof listener !== 'function') throw new TypeError('removeEventListener(): listener must be a function');
    this.off(type, listener, context);
  }

  /** Number of handlers registered for `type`. */
  listenerCount(type: string): number {
    return this.#registrations.get(type)?.length ?? 0;
  }

  /**
   * Dispatch `event` to the handlers of `name` (default `event.type`). SDK-internal:
   * call after the SDK's own state is updated.
   */
  protected dispatch(event: ConveneEvent, name: string = event.type): void {
    if (event.target === undefined) event.target = this;
    const list = this.#registrations.get(name);
    if (!list || list.length === 0) return;
    for (const reg of list.slice()) {
      if (reg.onceGroup) {
        if (reg.onceGroup.fired) continue;
        reg.onceGroup.fired = true;
        this.#removeOnceGroup(reg);
      }
      try {
        (reg.handler as EventHandler<ConveneEvent>).call(reg.context ?? this, event);
      } catch (err) {
        this.#log.error({ event: name, err }, 'an event handler threw');
      }
    }
  }

  #add(a: unknown, b: unknown, c: unknown, once: boolean, method: string): void {
    if (typeof a === 'object' && a !== null) {
      const entries = Object.entries(a as Record<string, unknown>);
      for (const [, fn] of entries) if (typeof fn !== 'function') throw new TypeError(`${method}(): every handler in the map must be a function`);
      for (const [name, fn] of entries) this.#register(splitNames(name), fn as EventHandler<never>, b, once);
      return;
    }
    if (typeof a !== 'string' || splitNames(a).length === 0) throw new TypeError(`${method}(): type must be a non-empty string or a map of handlers`);
    if (typeof b !== 'function') throw new TypeError(`${method}(): handler must be a function`);
    this.#register(splitNames(a), b as EventHandler<never>, c, once);
  }

  #register(names: string[], handler: EventHandler<never>, context: unknown, once: boolean): void {
    const onceGroup = once ? { fired: false, names } : undefined;
    for (const name of names) {
      const reg: Registration = { handler, context, onceGroup };
      const list = this.#registrations.get(name);
      if (list) list.push(reg);
      else this.#registrations.set(name, [reg]);
    }
  }

  #remove(names: string[], handler: EventHandler<never> | undefined, context: unknown): void {
    for (const name of names) {
      const list = this.#registrations.get(name);
      if (!list) continue;
      const kept = list.filter((r) => !((handler === undefined || r.handler === handler) && (context === undefined || r.context === context)));
      if (kept.length === 0) this.#registrations.delete(name);
      else this.#registrations.set(name, kept);
    }
  }

  #removeOnceGroup(reg: Registration): void {
    for (const name of reg.onceGroup?.names ?? []) {
      const list = this.#registrations.get(name);
      if (!list) continue;
      const kept = list.filter((r) => r.onceGroup !== reg.onceGroup);
      if (kept.length === 0) this.#registrations.delete(name);
      else this.#registrations.set(name, kept);
    }
  }
}
