/**
 * @convene/loadtest: load-test a Convene deployment with browserless bots (the client SDK in
 * Node, synthetic VP8/Opus), spread over worker processes. `convene loadtest` is its CLI; the
 * benchmarks in bench/ drive {@link runLoadTest} directly.
 */
export { runLoadTest, type LoadTestHooks, type LoadTestOptions, type LoadTestPhase, type LoadTestProgress } from './LoadTest.js';
export { runLoadtestCli, verdict, USAGE, type LoadtestCliIo } from './cli.js';
export { LoadTestError, type LoadTestErrorKind } from './errors.js';
export { formatReport } from './formatReport.js';
export { formatProgress, ProgressDisplay, type ProgressSink } from './progress.js';
export type { LoadTestReport, PublisherReport, PublisherTrackReport, SubscriberReport, SubscriberTrackReport } from './report.js';
export type { BotError, BotErrorKind, MediaSettings, Target } from './types.js';
export { ensureJanusRoom, JanusSession } from './janus/JanusSession.js';
