#!/usr/bin/env bash
# npm run bench:vs-janus [-- --n 50,100,200,300 --duration 10]
# Raise the open-file limit, then run the comparison with the bots on core 1 (each server is started
# on core 0 by the script). Installs Debian's janus when missing (needs root).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
here="$(dirname "$0")"
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  exec taskset -c 1 node "$here/vs-janus.mjs" "$@"
fi
exec node "$here/vs-janus.mjs" "$@"
