/* rtnetlink (libmnl): interface and address changes, so link up is seen
 * when pppN gets its address, never by sleeping. */
#pragma once
#include <stdbool.h>

struct loop;
struct netlink;

/* Called on every change to an interface's state: up means IFF_UP with a
 * local IPv4 (or global IPv6) address; local/remote are text, "" if none.
 * Also called once per existing interface after open (the initial dump). */
typedef void (*netlink_cb)(void *data, const char *ifname, int ifindex, bool up, const char *local,
			   const char *remote);

struct netlink *netlink_open(struct loop *l, netlink_cb cb, void *data, int *err);
struct netlink *netlink_close(struct netlink *nl);
/* Set the socket receive buffer (SO_RCVBUFFORCE; tests use a tiny one to
 * force an overrun). Returns 0 or -errno. */
int netlink_set_rcvbuf(struct netlink *nl, int bytes);
