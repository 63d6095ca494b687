/*
 * LD_PRELOAD shim for running Janus on loopback only (bench/vs-janus.mjs).
 *
 * Janus 1.1.x skips every interface flagged IFF_LOOPBACK when it builds its ICE address list
 * (janus_ice_setup_local in src/ice.c), so `ice_enforce_list = "lo"` matches nothing and it
 * gathers on every other interface instead. This wraps getifaddrs() and clears IFF_LOOPBACK on
 * "lo": with `ice_enforce_list = "lo"` Janus then offers exactly 127.0.0.1.
 *
 * Build: gcc -shared -fPIC -O2 -o noloopback.so noloopback.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

int getifaddrs(struct ifaddrs **ifap) {
	static int (*real_getifaddrs)(struct ifaddrs **) = NULL;
	if (real_getifaddrs == NULL)
		real_getifaddrs = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
	if (real_getifaddrs == NULL)
		return -1;
	int rc = real_getifaddrs(ifap);
	if (rc != 0)
		return rc;
	for (struct ifaddrs *i = *ifap; i != NULL; i = i->ifa_next) {
		if (i->ifa_name != NULL && strcmp(i->ifa_name, "lo") == 0)
			i->ifa_flags &= ~IFF_LOOPBACK;
	}
	return rc;
}
