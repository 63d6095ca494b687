/** Map of event name to listener argument tuple. */
export type EventMap = { [event: string]: unknown[] };

type Listener<A extends unknown[]> = (...args: A) => void;
type AnyListener = (...args: never[]) => void;

/**
 * A minimal typed event emitter that runs in browsers and Node. A throwing
 * listener never stops the others or corrupts the emitter's state: the error
 * is handed to `onListenerError` (default: rethrown asynchronously).
 */
export class TypedEmitter<E extends EventMap> {
  #listeners = new Map<keyof E, AnyListener[]>();

  /** Called when a listener throws. */
  onListenerError: (err: unknown, event: keyof E) => void = (err) => {
    queueMicrotask(() => {
      throw err;
    });
  };

  on<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const list = this.#listeners.get(event);
    if (list) list.push(fn as unknown as AnyListener);
    else this.#listeners.set(event, [fn as unknown as AnyListener]);
    return this;
  }

  once<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const wrapper = (...args: E[K]): void => {
      this.off(event, wrapper);
      fn(...args);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof E>(event?: K, fn?: Listener<E[K]>): this {
    if (event === undefined) this.#listeners.clear();
    else if (!fn) this.#listeners.delete(event);
    else {
      const list = this.#listeners.get(event);
      if (!list) return this;
      const i = list.indexOf(fn as unknown as AnyListener);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.#listeners.delete(event);
    }
    return this;
  }

  /** Emit to a snapshot of the listeners; returns whether any listener ran. */
  emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const fn of list.slice()) {
      try {
        (fn as unknown as Listener<E[K]>)(...args);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
    return true;
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.#listeners.get(event)?.length ?? 0;
  }
}
