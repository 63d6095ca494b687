#!/usr/bin/env bash
# Raise the open-file limit (5,000 sockets on each side need it), then run the benchmark.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
exec node "$(dirname "$0")/signaling.mjs" "$@"
