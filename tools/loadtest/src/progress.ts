import type { LoadTestProgress } from './LoadTest.js';
import { formatBitrate } from './stats.js';

/** Where the live display writes (stderr in the CLI). */
export interface ProgressSink {
  write(text: string): void;
  /** Redraw one line in place (a terminal) or print plain lines (a pipe or a file). */
  isTTY: boolean;
}

/** One status line: phase, bots joined, tracks received, bit rate, loss, errors. */
export function formatProgress(p: LoadTestProgress): string {
  const parts = [
    `[${p.elapsedS.toFixed(0).padStart(4)}s] ${p.phase.padEnd(11)}`,
    `bots ${p.joined}/${p.planned}`,
    `tracks ${p.tracksReceiving}/${p.tracksExpected}`,
  ];
  // Rates mean something only while media flows.
  if (p.phase === 'subscribers' || p.phase === 'settle' || p.phase === 'measure') parts.push(`rx ${formatBitrate(p.bitrate)}`, `loss ${p.lossPct.toFixed(2)}%`);
  if (p.remainingS !== null) parts.push(`${p.remainingS.toFixed(0)}s left`);
  if (p.errors > 0) parts.push(`errors ${p.errors}`);
  if (p.disconnected > 0) parts.push(`dropped ${p.disconnected}`);
  return parts.join('  ');
}

/**
 * A live display: on a terminal one line redrawn in place every update; elsewhere a plain line
 * every `plainEveryS` seconds and at each phase change.
 */
export class ProgressDisplay {
  readonly #sink: ProgressSink;
  readonly #plainEveryS: number;
  #lastPhase = '';
  #lastPlainAt = -Infinity;
  #drawn = false;

  constructor(sink: ProgressSink, plainEveryS = 5) {
    this.#sink = sink;
    this.#plainEveryS = plainEveryS;
  }

  update(p: LoadTestProgress): void {
    const line = formatProgress(p);
    if (this.#sink.isTTY) {
      this.#sink.write(`\r\x1b[2K${line}`);
      this.#drawn = true;
      return;
    }
    if (p.phase !== this.#lastPhase || p.elapsedS - this.#lastPlainAt >= this.#plainEveryS) {
      this.#sink.write(line + '\n');
      this.#lastPhase = p.phase;
      this.#lastPlainAt = p.elapsedS;
    }
  }

  /** Ends the in-place line (before the report is printed). */
  done(): void {
    if (this.#drawn) this.#sink.write('\n');
    this.#drawn = false;
  }
}
