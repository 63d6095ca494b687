/** A logger the application may plug in with `OT.setLogger()` (pino, console, ...). */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** Log levels, by name or by the reference's numbers (OT.NONE=0 ... OT.DEBUG=5). */
export type LogLevelName = 'none' | 'error' | 'warn' | 'info' | 'log' | 'debug';

export const LogLevel = { NONE: 0, ERROR: 1, WARN: 2, INFO: 3, LOG: 4, DEBUG: 5 } as const;

const byName: Record<LogLevelName, number> = { none: 0, error: 1, warn: 2, info: 3, log: 4, debug: 5 };

type Method = 'error' | 'warn' | 'info' | 'debug';
const levelOf: Record<Method, number> = { error: 1, warn: 2, info: 3, debug: 5 };

/** Writes to the console, the only place the SDK does by default (errors and warnings). */
const consoleSink: Logger = {
  error: (obj, msg) => globalThis.console?.error('[convene]', msg ?? '', obj),
  warn: (obj, msg) => globalThis.console?.warn('[convene]', msg ?? '', obj),
  info: (obj, msg) => globalThis.console?.info('[convene]', msg ?? '', obj),
  debug: (obj, msg) => globalThis.console?.debug('[convene]', msg ?? '', obj),
};

let sink: Logger = consoleSink;
let level: number = LogLevel.WARN;

/** Set the SDK-wide log level. Unknown values are ignored. */
export function setLogLevel(l: LogLevelName | number): void {
  if (typeof l === 'number' && Number.isInteger(l) && l >= 0 && l <= 5) level = l;
  else if (typeof l === 'string' && l in byName) level = byName[l as LogLevelName];
}

/** Current SDK-wide log level (0..5). */
export function getLogLevel(): number {
  return level;
}

/** Route the SDK's log lines to `logger`; `null` restores the console. */
export function setLogger(logger: Logger | null): void {
  sink = logger ?? consoleSink;
}

/** A named module logger that filters by the SDK-wide level at call time. */
export function createLogger(module: string): Logger {
  const at =
    (m: Method) =>
    (obj: object, msg?: string): void => {
      if (level < levelOf[m]) return;
      try {
        sink[m]({ module, ...obj }, msg);
      } catch {
        // A broken application logger must not break the SDK.
      }
    };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}
