/* rtnetlink watch against the real kernel, in a private network namespace:
 * veth interfaces (the host kernel has no dummy module) with point-to-point and IPv6 addresses,
 * renames, deletion, and a forced receive-buffer overrun. Needs root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "netlink.h"
#include "util.h"

#define MAX_IFS 64

struct seen_if {
	char name[16];
	int ifindex;
	bool up;
	char local[64], remote[64];
	int calls;
};

struct ctx {
	struct loop *loop;
	struct netlink *nl;
	struct seen_if ifs[MAX_IFS];
	int calls;
	bool close_in_cb;
};

static struct seen_if *lookup(struct ctx *c, const char *name)
{
	for (int i = 0; i < MAX_IFS; i++)
		if (!strcmp(c->ifs[i].name, name))
			return &c->ifs[i];
	return NULL;
}

static void on_change(void *data, const char *ifname, int ifindex, bool up, const char *local,
		      const char *remote)
{
	struct ctx *c = data;
	struct seen_if *s = lookup(c, ifname);
	if (!s)
		s = lookup(c, "");
	if (!s) {
		fail_msg("more than %d interfaces reported", MAX_IFS);
		return;
	}
	snprintf(s->name, sizeof(s->name), "%s", ifname);
	s->ifindex = ifindex;
	s->up = up;
	snprintf(s->local, sizeof(s->local), "%s", local);
	snprintf(s->remote, sizeof(s->remote), "%s", remote);
	s->calls++;
	c->calls++;
	if (c->close_in_cb)
		c->nl = netlink_close(c->nl);
}

static void sh(const char *cmd)
{
	int r = system(cmd);
	if (r != 0)
		fail_msg("command failed (%d): %s", r, cmd);
}

static int setup(void **state)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_netlink must run as root: it needs unshare(CLONE_NEWNET) "
				"and ip link add (CAP_NET_ADMIN)\n");
		return -1;
	}
	/* A fresh namespace per test: only our interfaces, and nothing we
	 * do touches the host. */
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	struct ctx *c = calloc(1, sizeof(*c));
	c->loop = loop_new();
	int err = 0;
	c->nl = netlink_open(c->loop, on_change, c, &err);
	assert_int_equal(err, 0);
	assert_non_null(c->nl);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	c->nl = netlink_close(c->nl);
	c->loop = loop_free(c->loop);
	free(c);
	return 0;
}

typedef bool (*cond_fn)(struct ctx *c, const void *arg);

static bool wait_for(struct ctx *c, cond_fn cond, const void *arg)
{
	uint64_t end = now_ms() + 10000;
	while (!cond(c, arg) && now_ms() < end)
		loop_iterate(c->loop, 100);
	return cond(c, arg);
}

static bool known(struct ctx *c, const void *name)
{
	return lookup(c, name) != NULL;
}

struct want {
	const char *name;
	bool up;
	const char *local, *remote;
};

static bool state_is(struct ctx *c, const void *arg)
{
	const struct want *w = arg;
	struct seen_if *s = lookup(c, w->name);
	return s && s->up == w->up && !strcmp(s->local, w->local) && !strcmp(s->remote, w->remote);
}

static void initial_dump(void **state)
{
	struct ctx *c = *state;
	/* Every existing interface is reported once after open: here lo. */
	assert_true(wait_for(c, known, "lo"));
	for (int i = 0; i < 5; i++)
		loop_iterate(c->loop, 20);
	struct seen_if *lo = lookup(c, "lo");
	assert_int_equal(lo->calls, 1);
	assert_false(lo->up);
	assert_int_equal(c->calls, 1);

	sh("ip link set lo up");
	struct want w = {"lo", true, "127.0.0.1", ""};
	assert_true(wait_for(c, state_is, &w));
}

static void point_to_point_up_down(void **state)
{
	struct ctx *c = *state;
	assert_true(wait_for(c, known, "lo"));
	sh("ip link add d0 type veth peer name d0p");
	sh("ip addr add 10.64.0.1 peer 10.64.0.2/32 dev d0");
	struct want down_with_addr = {"d0", false, "10.64.0.1", "10.64.0.2"};
	assert_true(wait_for(c, state_is, &down_with_addr));
	sh("ip link set d0 up");
	struct want up = {"d0", true, "10.64.0.1", "10.64.0.2"};
	assert_true(wait_for(c, state_is, &up));
	assert_true(lookup(c, "d0")->ifindex > 0);

	sh("ip link del d0");
	struct want gone = {"d0", false, "", ""};
	assert_true(wait_for(c, state_is, &gone));
}

static void address_removed_and_ipv6(void **state)
{
	struct ctx *c = *state;
	sh("ip link add d1 type veth peer name d1p && ip link set d1 up");
	sh("ip -6 addr add 2001:db8::1/64 dev d1 nodad");
	struct want v6 = {"d1", true, "2001:db8::1", ""};
	assert_true(wait_for(c, state_is, &v6));
	/* IPv4 wins when there is one. */
	sh("ip addr add 192.0.2.1/24 dev d1");
	struct want v4 = {"d1", true, "192.0.2.1", ""};
	assert_true(wait_for(c, state_is, &v4));
	/* Another subnet: deleting a primary also deletes its secondaries. */
	sh("ip addr add 198.51.100.7/24 dev d1");
	/* The first address goes: the remaining one is found again. */
	sh("ip addr del 192.0.2.1/24 dev d1");
	struct want second = {"d1", true, "198.51.100.7", ""};
	assert_true(wait_for(c, state_is, &second));
	sh("ip addr flush dev d1");
	struct want none = {"d1", false, "", ""};
	assert_true(wait_for(c, state_is, &none));
}

static void rename_like_pppd(void **state)
{
	struct ctx *c = *state;
	/* pppd creates ppp0 and renames it to the "ifname" option. */
	sh("ip link add ppp9 type veth peer name ppp9p");
	assert_true(wait_for(c, known, "ppp9"));
	sh("ip link set ppp9 name ppp-m0");
	assert_true(wait_for(c, known, "ppp-m0"));
	struct want old = {"ppp9", false, "", ""};
	assert_true(state_is(c, &old));
	sh("ip addr add 10.0.0.5 peer 10.0.0.6/32 dev ppp-m0 && ip link set ppp-m0 up");
	struct want up = {"ppp-m0", true, "10.0.0.5", "10.0.0.6"};
	assert_true(wait_for(c, state_is, &up));
}

static bool all_final(struct ctx *c, const void *arg)
{
	(void)arg;
	for (int i = 0; i < 25; i++) {
		char name[16], local[32];
		snprintf(name, sizeof(name), "o%d", i);
		snprintf(local, sizeof(local), "10.9.%d.1", i);
		struct want w = {name, true, local, "10.9.0.254"};
		struct want gone = {name, false, "", ""};
		if (i >= 5 && i < 10 ? !(state_is(c, &gone) || !lookup(c, name)) : !state_is(c, &w))
			return false;
	}
	return true;
}

static void overrun_redump(void **state)
{
	struct ctx *c = *state;
	assert_true(wait_for(c, known, "lo"));
	/* A tiny buffer and a burst we do not read: events are lost
	 * (ENOBUFS); a new dump must bring the table back in line, including
	 * interfaces that came and went while we were deaf. */
	assert_int_equal(netlink_set_rcvbuf(c->nl, 1), 0);
	FILE *f = fopen("/tmp/test_netlink.batch", "w");
	assert_non_null(f);
	for (int i = 0; i < 25; i++)
		fprintf(f,
			"link add o%d type veth peer name o%dp\naddr add 10.9.%d.1 peer "
			"10.9.0.254/32 dev o%d\n"
			"link set o%d up\n",
			i, i, i, i, i);
	for (int i = 5; i < 10; i++)
		fprintf(f, "link del o%d\n", i);
	fclose(f);
	sh("ip -batch /tmp/test_netlink.batch");
	unlink("/tmp/test_netlink.batch");
	assert_int_equal(netlink_set_rcvbuf(c->nl, 1 << 20), 0);
	assert_true(wait_for(c, all_final, NULL));
}

static bool closed(struct ctx *c, const void *arg)
{
	(void)arg;
	return c->nl == NULL;
}

static void close_inside_callback(void **state)
{
	struct ctx *c = *state;
	assert_true(wait_for(c, known, "lo"));
	c->close_in_cb = true;
	int calls = c->calls;
	/* Two interfaces, several events in one read: the first closes. */
	sh("ip link add z0 type veth peer name z1");
	assert_true(wait_for(c, closed, NULL));
	assert_int_equal(c->calls, calls + 1);
	for (int i = 0; i < 5; i++)
		loop_iterate(c->loop, 20);
	assert_int_equal(c->calls, calls + 1); /* never called again */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(initial_dump, setup, teardown),
	    cmocka_unit_test_setup_teardown(point_to_point_up_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(address_removed_and_ipv6, setup, teardown),
	    cmocka_unit_test_setup_teardown(rename_like_pppd, setup, teardown),
	    cmocka_unit_test_setup_teardown(overrun_redump, setup, teardown),
	    cmocka_unit_test_setup_teardown(close_inside_callback, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
