import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Log levels accepted by `startServer({ logLevel })`. */
export type LogLevel = LevelWithSilent;

/** Create the server's root logger; modules take named children of it. */
export function createRootLogger(level: LogLevel = 'info'): Logger {
  return pino({ name: 'convene', level });
}

/** One named child logger per module. */
export function moduleLogger(root: Logger, module: string): Logger {
  return root.child({ module });
}
