/** Why a load test could not produce a report. */
export type LoadTestErrorKind = 'usage' | 'unreachable' | 'auth' | 'media' | 'deadline' | 'workers' | 'aborted';

/**
 * A load test that cannot go on: bad options, a server that cannot be reached, credentials it
 * rejects, a run that overran its hard deadline. Errors of single bots are not thrown: they are
 * in the report.
 */
export class LoadTestError extends Error {
  override readonly name = 'LoadTestError';

  constructor(
    readonly kind: LoadTestErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
