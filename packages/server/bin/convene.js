#!/bin/sh
':' //; if [ "$1" = start ]; then [ -n "${GLIBC_TUNABLES+set}" ] || export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=66560; case "$NODE_OPTIONS" in *semi-space*) ;; *) export NODE_OPTIONS="--max-semi-space-size=2${NODE_OPTIONS:+ $NODE_OPTIONS}" ;; esac; fi; exec node "$0" "$@"
// The `convene` command. Runs the built CLI (npm install builds it through the root `prepare`).
// The line above is a shell command (for Node, a string and a comment): run as a program, it starts Node with
// the memory settings of `convene start` (src/startEnv.ts says what they are, why, and how to turn them off),
// which must be in place before Node starts. `node bin/convene.js` skips it.
import { run } from '../dist/cli.js';

await run();
