/**
 * Process settings `convene start` runs with. Neither can be changed from inside a running Node process (V8
 * sizes its heap and glibc reads its tunables at startup), so `bin/convene.js` sets them in the environment
 * before Node starts (its first line is a shell command; keep the two in step: `startEnv.test.ts` runs it).
 * Measured with `bench/forwarding-variants.mjs` (bench/README.md, "Memory per subscriber"):
 * - `--max-semi-space-size=2`: Node lets V8's young generation grow to 2 × 16 MB under the allocation rate of
 *   media forwarding, ≈30 MB of RSS that a 2 MB cap saves with no measurable CPU (a few more scavenges).
 * - `glibc.malloc.mmap_threshold=66560` (65 KB): libjuice's 67 KB ICE agent, one per peer connection, then gets
 *   its own zero-filled mapping, of which only the pages it touches become resident, instead of a zeroed heap
 *   block (≈20 KB less per peer connection). Node's 64 KB stream chunks stay below it, in the heap.
 * A variable that is already set (even to an empty string) is left as it is, and so is a `NODE_OPTIONS` that
 * already sets a semi-space size: that is how to turn either off.
 */
export const START_ENV_DEFAULTS = {
  GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=66560',
  NODE_OPTIONS: '--max-semi-space-size=2',
} as const;

/** `env` with {@link START_ENV_DEFAULTS} applied as `bin/convene.js` applies them for `convene start`. */
export function withStartEnvDefaults(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const out = { ...env };
  if (out.GLIBC_TUNABLES === undefined) out.GLIBC_TUNABLES = START_ENV_DEFAULTS.GLIBC_TUNABLES;
  const nodeOptions = out.NODE_OPTIONS ?? '';
  if (!nodeOptions.includes('semi-space')) out.NODE_OPTIONS = nodeOptions ? `${START_ENV_DEFAULTS.NODE_OPTIONS} ${nodeOptions}` : START_ENV_DEFAULTS.NODE_OPTIONS;
  return out;
}
