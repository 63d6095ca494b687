#!/usr/bin/env bash
# npm run bench:forwarding [-- --n 50,100,200,300 --duration 10]
# Raise the open-file limit (hundreds of peer connections on each side), then run the benchmark with
# the bots on core 1 (the server is started on core 0 by the script).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
here="$(dirname "$0")"
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  exec taskset -c 1 node "$here/forwarding.mjs" "$@"
fi
exec node "$here/forwarding.mjs" "$@"
