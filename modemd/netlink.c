/* rtnetlink watch (libmnl): a table of interfaces with their flags and first
 * address, kept current from RTM_NEWLINK/DELLINK/NEWADDR/DELADDR events.
 * Dumps (links, then addresses) run one at a time; an overrun (ENOBUFS)
 * means events were lost, so everything is dumped again and interfaces not
 * seen in the new link dump are reported gone. */
#include "netlink.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

/* A gateway has a handful of interfaces; containers hosts may have many
 * veths. Beyond this, new interfaces are ignored (with a debug line). */
#define NL_MAX_IF 512
#define ADDR_LEN  INET6_ADDRSTRLEN

struct nl_if {
	int ifindex; /* 0: free slot */
	char name[IFNAMSIZ];
	unsigned flags;
	char local4[ADDR_LEN], peer4[ADDR_LEN];
	char local6[ADDR_LEN], peer6[ADDR_LEN];
	bool seen; /* in the running link dump */
	/* What the callback was last told. */
	bool reported, rep_up;
	char rep_name[IFNAMSIZ], rep_local[ADDR_LEN], rep_remote[ADDR_LEN];
};

enum dump { DUMP_NONE, DUMP_LINK, DUMP_ADDR };

struct netlink {
	struct loop *loop;
	struct mnl_socket *sock;
	struct loop_io *io;
	netlink_cb cb;
	void *data;
	unsigned seq;
	enum dump dumping;
	bool need_link, need_addr;
	bool initial; /* callbacks held until the first dumps are complete */
	bool closed;  /* netlink_close from inside a callback */
	int dump_end; /* set by done_cb (1) / error_cb (-1) */
	int busy;
	struct nl_if ifs[NL_MAX_IF];
	char buf[32768];
};

static struct nl_if *find_if(struct netlink *nl, int ifindex, bool create)
{
	struct nl_if *free_slot = NULL;
	for (size_t i = 0; i < NL_MAX_IF; i++) {
		if (nl->ifs[i].ifindex == ifindex)
			return &nl->ifs[i];
		if (!free_slot && !nl->ifs[i].ifindex)
			free_slot = &nl->ifs[i];
	}
	if (!create)
		return NULL;
	if (!free_slot) {
		log_debug("netlink: more than %d interfaces, ignoring ifindex %d", NL_MAX_IF,
			  ifindex);
		return NULL;
	}
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->ifindex = ifindex;
	return free_slot;
}

static void call(struct netlink *nl, const char *name, int ifindex, bool up, const char *local,
		 const char *remote)
{
	nl->busy++;
	nl->cb(nl->data, name, ifindex, up, local, remote);
	nl->busy--;
}

/* Tell the callback if what it would see has changed. */
static void report(struct netlink *nl, struct nl_if *e)
{
	if (nl->initial || nl->closed || !e->name[0])
		return;
	const char *local = e->local4[0] ? e->local4 : e->local6;
	const char *remote = e->local4[0] ? e->peer4 : e->peer6;
	bool up = (e->flags & IFF_UP) && local[0];
	if (e->reported && e->rep_up == up && !strcmp(e->rep_name, e->name) &&
	    !strcmp(e->rep_local, local) && !strcmp(e->rep_remote, remote))
		return;
	/* Renamed (pppd creates ppp0, then renames it to ifname): the old
	 * name is gone for anyone who matches by name. */
	if (e->reported && strcmp(e->rep_name, e->name)) {
		call(nl, e->rep_name, e->ifindex, false, "", "");
		if (nl->closed)
			return;
	}
	e->reported = true;
	e->rep_up = up;
	memcpy(e->rep_name, e->name, sizeof(e->rep_name));
	memcpy(e->rep_local, local, sizeof(e->rep_local));
	memcpy(e->rep_remote, remote, sizeof(e->rep_remote));
	call(nl, e->name, e->ifindex, up, local, remote);
}

static void forget(struct netlink *nl, struct nl_if *e)
{
	char name[IFNAMSIZ];
	int ifindex = e->ifindex;
	bool tell = e->reported && !nl->initial;
	memcpy(name, e->reported ? e->rep_name : e->name, sizeof(name));
	memset(e, 0, sizeof(*e));
	if (tell && !nl->closed)
		call(nl, name, ifindex, false, "", "");
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);
	/* IFLA_MAX > IFA_MAX: one table size fits both message kinds. */
	if (mnl_attr_type_valid(a, IFLA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = a;
	return MNL_CB_OK;
}

static void on_link(struct netlink *nl, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = {0};
	if (mnl_attr_parse(nlh, sizeof(*ifi), attr_cb, tb) < 0)
		return;
	if (nlh->nlmsg_type == RTM_DELLINK) {
		struct nl_if *e = find_if(nl, ifi->ifi_index, false);
		if (e)
			forget(nl, e);
		return;
	}
	struct nl_if *e = find_if(nl, ifi->ifi_index, true);
	if (!e)
		return;
	e->flags = ifi->ifi_flags;
	e->seen = true;
	if (tb[IFLA_IFNAME] && mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) >= 0)
		strlcpy_checked(e->name, mnl_attr_get_str(tb[IFLA_IFNAME]), sizeof(e->name));
	report(nl, e);
}

static void on_addr(struct netlink *nl, const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = {0};
	char local[ADDR_LEN] = "", addr[ADDR_LEN] = "";
	if (mnl_attr_parse(nlh, sizeof(*ifa), attr_cb, tb) < 0)
		return;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
	const int types[2] = {IFA_LOCAL, IFA_ADDRESS};
	char *outs[2] = {local, addr};
	for (int i = 0; i < 2; i++) {
		const struct nlattr *a = tb[types[i]];
		if (a && mnl_attr_validate2(a, MNL_TYPE_BINARY, alen) >= 0)
			inet_ntop(ifa->ifa_family, mnl_attr_get_payload(a), outs[i], ADDR_LEN);
	}
	/* IFA_LOCAL is ours; IFA_ADDRESS is the peer on point-to-point links
	 * and equals IFA_LOCAL (or is alone) otherwise. */
	if (!local[0])
		memcpy(local, addr, sizeof(local));
	if (!strcmp(addr, local))
		addr[0] = 0;
	if (!local[0])
		return;
	unsigned flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS] && mnl_attr_validate(tb[IFA_FLAGS], MNL_TYPE_U32) >= 0)
		flags = mnl_attr_get_u32(tb[IFA_FLAGS]);

	struct nl_if *e = find_if(nl, (int)ifa->ifa_index, false);
	if (!e)
		return; /* link not known yet: the link event or dump will come */
	bool v4 = ifa->ifa_family == AF_INET;
	char *l = v4 ? e->local4 : e->local6, *r = v4 ? e->peer4 : e->peer6;
	if (nlh->nlmsg_type == RTM_DELADDR) {
		if (strcmp(l, local))
			return;
		l[0] = r[0] = 0;
		/* Another address may remain: ask for the list again. */
		nl->need_addr = true;
	} else {
		/* Only global IPv6 addresses that passed DAD count. */
		if (!v4 && (ifa->ifa_scope != RT_SCOPE_UNIVERSE ||
			    (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED))))
			return;
		if (l[0] && strcmp(l, local))
			return; /* keep the first address */
		memcpy(l, local, ADDR_LEN);
		memcpy(r, addr, ADDR_LEN);
	}
	report(nl, e);
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netlink *nl = data;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct ifinfomsg))
			on_link(nl, nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct ifaddrmsg))
			on_addr(nl, nlh);
		break;
	default:
		break;
	}
	return nl->closed ? MNL_CB_STOP : MNL_CB_OK;
}

static int send_dump(struct netlink *nl, enum dump what)
{
	char b[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	nlh->nlmsg_type = what == DUMP_LINK ? RTM_GETLINK : RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++nl->seq;
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	nl->dumping = what;
	if (what == DUMP_LINK)
		for (size_t i = 0; i < NL_MAX_IF; i++)
			nl->ifs[i].seen = false;
	return 0;
}

/* Start the next queued dump, if none is running. */
static void next_dump(struct netlink *nl)
{
	int r = 0;
	if (nl->dumping != DUMP_NONE)
		return;
	if (nl->need_link) {
		nl->need_link = false;
		r = send_dump(nl, DUMP_LINK);
	} else if (nl->need_addr) {
		nl->need_addr = false;
		r = send_dump(nl, DUMP_ADDR);
	}
	if (r < 0)
		log_err("netlink: cannot request a dump: %s", strerror(-r));
}

static void dump_done(struct netlink *nl)
{
	enum dump was = nl->dumping;
	nl->dumping = DUMP_NONE;
	if (was == DUMP_LINK) {
		/* Gone while we were not listening (overrun). */
		for (size_t i = 0; i < NL_MAX_IF && !nl->closed; i++)
			if (nl->ifs[i].ifindex && !nl->ifs[i].seen)
				forget(nl, &nl->ifs[i]);
	}
	if (was == DUMP_ADDR && nl->initial && !nl->need_link) {
		nl->initial = false;
		for (size_t i = 0; i < NL_MAX_IF && !nl->closed; i++)
			if (nl->ifs[i].ifindex)
				report(nl, &nl->ifs[i]);
	}
}

static void resync(struct netlink *nl)
{
	log_debug("netlink: receive buffer overrun, dumping interfaces again");
	/* Only events are lost: a running dump continues on the next read
	 * (the kernel fills it as we read), and a full one follows. */
	nl->need_link = nl->need_addr = true;
}

/* NLMSG_DONE / NLMSG_ERROR: ours only if they answer the current request. */
static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netlink *nl = data;
	if (nl->dumping != DUMP_NONE && nlh->nlmsg_seq == nl->seq)
		nl->dump_end = 1;
	return MNL_CB_OK;
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netlink *nl = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
		return MNL_CB_OK;
	if (nl->dumping != DUMP_NONE && nlh->nlmsg_seq == nl->seq && e->error) {
		log_debug("netlink: dump refused: %s", strerror(-e->error));
		nl->dump_end = -1;
	}
	return MNL_CB_OK;
}

static void on_readable(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct netlink *nl = data;
	(void)io;
	(void)fd;
	(void)events;
	nl->busy++;
	/* Bounded: at most a few datagrams per round, so one busy socket
	 * cannot starve the loop. */
	for (int i = 0; i < 64 && !nl->closed; i++) {
		ssize_t n =
		    recv(mnl_socket_get_fd(nl->sock), nl->buf, sizeof(nl->buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS) {
				resync(nl);
				continue;
			}
			break; /* EAGAIN, EINTR: come back later */
		}
		/* portid/seq 0: events carry the portid of whoever changed the
		 * link, not ours; done_cb/error_cb check our sequence number. */
		mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_DONE] = done_cb, [NLMSG_ERROR] = error_cb};
		nl->dump_end = 0;
		mnl_cb_run2(nl->buf, (size_t)n, 0, 0, msg_cb, nl, ctl, NLMSG_MIN_TYPE);
		if (nl->closed)
			break;
		if (nl->dump_end > 0) {
			dump_done(nl);
		} else if (nl->dump_end < 0) {
			/* EBUSY and the like: ask again. */
			if (nl->dumping == DUMP_LINK)
				nl->need_link = true;
			else
				nl->need_addr = true;
			nl->dumping = DUMP_NONE;
		}
		if (!nl->closed)
			next_dump(nl);
	}
	nl->busy--;
	if (nl->closed && !nl->busy) {
		nl->closed = false;
		netlink_close(nl);
	}
}

struct netlink *netlink_open(struct loop *l, netlink_cb cb, void *data, int *err)
{
	int r;
	struct netlink *nl = calloc(1, sizeof(*nl));
	if (!nl) {
		r = -ENOMEM;
		goto fail;
	}
	nl->loop = l;
	nl->cb = cb;
	nl->data = data;
	nl->seq = (unsigned)time(NULL);
	nl->initial = true;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl->sock) {
		r = -errno; /* log_errno evaluates r after logging */
		log_err("netlink: cannot open socket: %s", strerror(-r));
		goto fail;
	}
	if (mnl_socket_bind(nl->sock, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			    MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		log_err("netlink: cannot bind: %s", strerror(-r));
		goto fail;
	}
	/* Room for a burst of events (many modems at once); FORCE needs
	 * CAP_NET_ADMIN, the plain one is capped by rmem_max. */
	int sz = 1 << 20, fd = mnl_socket_get_fd(nl->sock);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	nl->io = loop_io_add(l, fd, EPOLLIN, on_readable, nl);
	if (!nl->io) {
		r = -ENOMEM;
		goto fail;
	}
	nl->need_link = nl->need_addr = true;
	next_dump(nl);
	if (nl->dumping == DUMP_NONE) {
		r = -EIO;
		goto fail;
	}
	return nl;
fail:
	netlink_close(nl);
	if (err)
		*err = r;
	return NULL;
}

int netlink_set_rcvbuf(struct netlink *nl, int bytes)
{
	int fd = mnl_socket_get_fd(nl->sock);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		return -errno;
	return 0;
}

struct netlink *netlink_close(struct netlink *nl)
{
	if (!nl)
		return NULL;
	if (nl->busy) {
		/* Inside our own dispatch: finish there. */
		nl->closed = true;
		return NULL;
	}
	nl->io = loop_io_del(nl->io);
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
	return NULL;
}
