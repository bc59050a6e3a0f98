/* TUN devices for the bundle (mp0 on the gateway, one per bundle or one
 * shared on the receiver). Addresses, MTU, routes and rules are set with
 * route.h on the device's ifindex. */
#pragma once
#include <net/if.h>
#include <stddef.h>
#include <sys/types.h>

/* Create (or attach to a persistent) TUN device: IFF_TUN | IFF_NO_PI, so
 * each read returns one IP packet and each write takes one. name NULL or ""
 * lets the kernel pick ("tun%d"); a "%d" in name is filled in by the kernel.
 * The fd is non-blocking and close-on-exec; the device disappears when it
 * is closed. ifname_out (IF_NAMESIZE bytes, may be NULL) receives the name
 * the kernel gave it. Returns the fd, or a negative errno (also stored in
 * *err when err is not NULL). */
int tun_open(const char *name, char *ifname_out, int *err);

/* One packet; -EAGAIN when none is queued. Returns its length or -errno. */
ssize_t tun_read(int fd, void *buf, size_t size);
/* One whole packet; returns 0 or -errno (-EAGAIN: queue full, dropped). */
int tun_write(int fd, const void *pkt, size_t len);
