/**
 * Base of every event object the SDK dispatches (the reference's `Event`):
 * `type`, `target`, `cancelable`, `preventDefault()`, `isDefaultPrevented()`.
 */
export class ConveneEvent<T = unknown> {
  /** Event name as dispatched (`sessionConnected`, `signal:chat`, ...). */
  readonly type: string;
  /** The object that dispatched the event. */
  target: T | undefined;
  /** Whether `preventDefault()` has an effect. */
  readonly cancelable: boolean;
  #defaultPrevented = false;

  constructor(type: string, cancelable = false, target?: T) {
    this.type = type;
    this.cancelable = cancelable;
    this.target = target;
  }

  /** Prevent the SDK's default action, if the event is cancelable. */
  preventDefault(): void {
    if (this.cancelable) this.#defaultPrevented = true;
  }

  /** Whether `preventDefault()` was called on a cancelable event. */
  isDefaultPrevented(): boolean {
    return this.#defaultPrevented;
  }
}
