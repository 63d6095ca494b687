#!/usr/bin/env python3
"""Splits a `perf record -g` profile of the Convene server (bench/forwarding-variants.mjs --perf) into
components of the forwarding cost. Usage: perf script -i X.data -F comm,tid,ip,sym,dso | perf-breakdown.py [usPerPacket]
Each sample is put in the first category its stack matches (see classify); with usPerPacket given, each
share is also printed as µs per forwarded packet."""
import re
import sys
from collections import Counter

SEND = 'TrackWrapper::sendMessageBinary'
CRYPTO = re.compile(r'srtp|aes|gcm|ghash|EVP_|CRYPTO_|ossl_|sha1|hmac|HMAC', re.I)
ALLOC = re.compile(r'^(malloc|free|_int_free|_int_malloc|cfree|operator new|operator delete|__memmove|__memcpy|memcpy|__memset|tcache|malloc_consolidate|_int_free_merge_chunk|_int_free_create_chunk|_int_free_maybe_consolidate)')
LOCK = re.compile(r'pthread_mutex|pthread_rwlock|lll_lock|lll_unlock|__futex|pthread_cond|futex')
NAPI = re.compile(r'napi_|Napi::|v8::|v8impl|Builtins_|node::')


def classify(comm, frames):
    """frames: list of (sym, dso), leaf first. The prebuilt node_datachannel.node has no frame pointers, so
    user-space stacks break inside it: the main thread is split by its leaf frame (and the kernel's own stack,
    which is complete), not by who called it."""
    syms = [s for s, _ in frames]
    leaf, leafdso = frames[0] if frames else ('?', '?')
    base = leafdso.split('/')[-1]
    kernel = 'kernel' in leafdso
    joined = '\n'.join(syms)
    if comm.startswith('juice'):
        return 'recv: libjuice mux thread (recvmsg, STUN/demux, hand-off)'
    if comm.startswith('RTC worker'):
        return 'recv: RTC worker threads (DTLS/SRTP unprotect, RTCP, hand-off to JS)'
    if not comm.startswith('node'):
        return f'other threads ({comm})'
    if kernel:
        if re.search(r'__sys_sendto|__x64_sys_sendto|udp_sendmsg|sendmsg', joined):
            return 'main, kernel: UDP send (sendto, incl. loopback delivery to the receiver)'
        if re.search(r'futex', joined):
            return 'main, kernel: futex (mutex/condvar wake-ups)'
        if re.search(r'epoll|do_sys_poll', joined):
            return 'main, kernel: epoll (event loop)'
        if re.search(r'schedule|finish_task_switch', joined):
            return 'main, kernel: scheduling, preemption'
        if re.search(r'read|write|eventfd', joined):
            return 'main, kernel: read/write (eventfd wake-ups, IPC)'
        return 'main, kernel: other (interrupts, page faults)'
    if base.startswith('node_datachannel'):
        if CRYPTO.search(leaf):
            return 'main, libdatachannel: SRTP protect (libsrtp + OpenSSL AES-GCM)'
        if LOCK.search(leaf):
            return 'main, libdatachannel: locks'
        if 'Wrapper' in leaf or 'Napi' in leaf or 'ThreadSafe' in leaf:
            return 'main, node-datachannel N-API glue'
        return 'main, libdatachannel/libjuice: Track/transport/agent code'
    if base.startswith('libc'):
        if ALLOC.search(leaf) or 'memmove' in leaf or 'memcpy' in leaf:
            return 'main, libc: malloc/free/memcpy'
        if LOCK.search(leaf):
            return 'main, libc: mutexes/condvars'
        if 'sendto' in leaf or 'send' in leaf:
            return 'main, kernel: UDP send (sendto, incl. loopback delivery to the receiver)'
        return 'main, libc: other'
    if leaf.startswith('uv__async_io'):
        return 'main, libuv: scan of every async handle per wake-up (one handle per thread-safe callback)'
    if base == 'node':
        if re.search(r'Heap|Scaveng|MarkCompact|Sweep|GC|Marking|Evacuat', leaf):
            return 'main, V8: garbage collection'
        if re.search(r'napi|v8impl|Napi|FunctionCallback|CallApiCallback|HandleApiCall|Builtins_CEntry|IsExternal|Unwrap|ObjectWrap|InternalField|BackingStore|ArrayBuffer|Uint8Array|TypedArray', leaf):
            return 'main, node: N-API and V8 API (JS <-> C++ calls, Buffers)'
        if leaf.startswith('uv_') or leaf.startswith('uv__'):
            return 'main, libuv: other'
        if leaf.startswith('Builtins_'):
            return 'main, V8 builtins (JS)'
        return 'main, node/V8: other'
    if '[JIT]' in leafdso or 'perf-' in leafdso or leafdso == 'unknown':
        return 'main, JS (JIT code)'
    return f'main: other ({base})'


def main():
    us = float(sys.argv[1]) if len(sys.argv) > 1 else None
    counts = Counter()
    comm, frames = None, []

    def flush():
        if comm is not None:
            counts[classify(comm, frames)] += 1

    for line in sys.stdin:
        if not line.strip():
            continue
        if not line.startswith((' ', '\t')):
            flush()
            comm, frames = line.split()[0], []
            m = re.match(r'^(.*?)\s+\d+\s*$', line.rstrip())
            if m:
                comm = m.group(1).strip()
            continue
        m = re.match(r'\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$', line)
        if m:
            frames.append((re.sub(r'\+0x[0-9a-f]+$', '', m.group(1)), m.group(2)))
    flush()
    total = sum(counts.values())
    print(f'{total} samples')
    for k, v in sorted(counts.items(), key=lambda kv: -kv[1]):
        share = v / total
        print(f'{100 * share:6.2f} %' + (f'  {share * us:5.2f} µs' if us else '') + f'  {k}')


if __name__ == '__main__':
    main()
