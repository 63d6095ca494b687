import { ExceptionEvent } from './events.js';

type Sink = (e: ExceptionEvent) => void;
let sink: Sink | null = null;

/** SDK-internal: the OT object registers itself here to dispatch `exception` events. */
export function setExceptionSink(s: Sink | null): void {
  sink = s;
}

/** SDK-internal: report an exception to `OT.on('exception')` handlers. */
export function reportException(code: number, message: string, title: string, source?: unknown): void {
  sink?.(new ExceptionEvent(code, message, title, source));
}
