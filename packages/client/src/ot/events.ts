import { ConveneEvent } from '../ConveneEvent.js';

/** Names of the events the OT object dispatches. */
export const OTEvent = {
  /** An error the application may want to know about, with the reference's codes (1004, 1006, 1500, 1530, ...). */
  Exception: 'exception',
} as const;
export type OTEvent = (typeof OTEvent)[keyof typeof OTEvent];

/**
 * `exception`: `code`, `message`, `title`, and `target`: as in the reference,
 * the object the exception pertains to (the Session), not the OT object.
 */
export class ExceptionEvent extends ConveneEvent {
  constructor(
    readonly code: number,
    readonly message: string,
    readonly title: string,
    target?: unknown,
  ) {
    super(OTEvent.Exception, false, target);
  }
}

/** Event objects by event name. */
export type OTEvents = {
  exception: ExceptionEvent;
};
