/* The receiver's address pool: range limits, exclusions, stable and static
 * assignments, rejoin memory, exhaustion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ippool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define A4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static void test_parse_cidr(void **state)
{
	uint32_t net;
	unsigned pl;

	assert_int_equal(ippool_parse_cidr("10.64.0.0/16", &net, &pl), 0);
	assert_int_equal(net, A4(10, 64, 0, 0));
	assert_int_equal(pl, 16);
	assert_int_equal(ippool_parse_cidr("192.168.7.9/24", &net, &pl), 0);
	assert_int_equal(net, A4(192, 168, 7, 0));
	assert_int_equal(pl, 24);
	static const char *const bad[] = {"10.0.0.0",	 "10.0.0.0/",
					  "10.0.0.0/33", "10.0.0/8",
					  "10.0.0.0/8x", "/8",
					  "10.0.0.0/-1", "",
					  "10.0.0.0/+8", "1234567890123456789012345678901234/8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ippool_parse_cidr(bad[i], &net, &pl), -EINVAL);
	assert_int_equal(ippool_parse_cidr(NULL, &net, &pl), -EINVAL);
}

static void test_bounds(void **state)
{
	struct ippool *p;

	assert_int_equal(ippool_new(&p, A4(10, 0, 0, 0), 15, 0), -EINVAL);
	assert_null(p);
	assert_int_equal(ippool_new(&p, A4(10, 0, 0, 0), 31, 0), -EINVAL);
	assert_int_equal(ippool_new(&p, A4(127, 0, 0, 0), 24, 0), -EINVAL);
	assert_int_equal(ippool_new(&p, A4(224, 0, 0, 0), 24, 0), -EINVAL);
	assert_int_equal(ippool_new(&p, A4(0, 0, 0, 0), 24, 0), -EINVAL);

	assert_int_equal(ippool_new(&p, A4(10, 64, 0, 0), 16, A4(10, 64, 0, 1)), 0);
	assert_int_equal(ippool_capacity(p), 65536 - 3);
	assert_int_equal(ippool_available(p), 65536 - 3);
	p = ippool_free(p);
	assert_null(p);
	assert_null(ippool_free(NULL));
}

/* A /30: network .0, server .1, peer .2, broadcast .3. */
static void test_exclusions_and_exhaustion(void **state)
{
	struct ippool *p;
	uint32_t a;

	assert_int_equal(ippool_new(&p, A4(10, 1, 1, 0), 30, A4(10, 1, 1, 1)), 0);
	assert_int_equal(ippool_capacity(p), 1);
	assert_int_equal(ippool_alloc(p, "a", &a), 0);
	assert_int_equal(a, A4(10, 1, 1, 2));
	assert_int_equal(ippool_alloc(p, "b", &a), -ENOSPC);
	assert_int_equal(ippool_alloc(p, NULL, &a), -ENOSPC);
	assert_int_equal(ippool_available(p), 0);
	assert_int_equal(ippool_release(p, A4(10, 1, 1, 2)), 0);
	assert_int_equal(ippool_release(p, A4(10, 1, 1, 2)), -ENOENT);
	assert_int_equal(ippool_alloc(p, "b", &a), 0);
	assert_int_equal(a, A4(10, 1, 1, 2));
	ippool_free(p);

	/* A /24 hands out exactly .1-.254 minus the server, each once. */
	assert_int_equal(ippool_new(&p, A4(10, 2, 0, 0), 24, A4(10, 2, 0, 100)), 0);
	static uint8_t seen[256];
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 253; i++) {
		char name[16];
		snprintf(name, sizeof(name), "gw%d", i);
		assert_int_equal(ippool_alloc(p, name, &a), 0);
		assert_int_equal(a >> 8, A4(10, 2, 0, 0) >> 8);
		assert_int_not_equal(a & 0xff, 0);
		assert_int_not_equal(a & 0xff, 255);
		assert_int_not_equal(a & 0xff, 100);
		assert_int_equal(seen[a & 0xff]++, 0);
	}
	assert_int_equal(ippool_alloc(p, "one-more", &a), -ENOSPC);
	ippool_free(p);
}

static void test_stable_while_held(void **state)
{
	struct ippool *p;
	uint32_t a, b, c;

	assert_int_equal(ippool_new(&p, A4(10, 64, 0, 0), 24, A4(10, 64, 0, 1)), 0);
	assert_int_equal(ippool_alloc(p, "gw-a", &a), 0);
	assert_int_equal(ippool_alloc(p, "gw-b", &b), 0);
	assert_int_not_equal(a, b);
	/* The same name again (a new bundle before the old one ended). */
	assert_int_equal(ippool_alloc(p, "gw-a", &c), 0);
	assert_int_equal(c, a);
	assert_string_equal(ippool_owner(p, a), "gw-a");
	/* Two references: the address stays held after one release. */
	assert_int_equal(ippool_release(p, a), 0);
	assert_string_equal(ippool_owner(p, a), "gw-a");
	assert_int_equal(ippool_release(p, a), 0);
	assert_null(ippool_owner(p, a));
	/* Anonymous leases are all different. */
	uint32_t x, y;
	assert_int_equal(ippool_alloc(p, NULL, &x), 0);
	assert_int_equal(ippool_alloc(p, "", &y), 0);
	assert_int_not_equal(x, y);
	assert_string_equal(ippool_owner(p, x), "");
	ippool_free(p); /* frees held leases */
}

static void test_rejoin_same_address(void **state)
{
	struct ippool *p;
	uint32_t a, b, c, a2;

	assert_int_equal(ippool_new(&p, A4(10, 64, 0, 0), 24, A4(10, 64, 0, 1)), 0);
	assert_int_equal(ippool_alloc(p, "gw-a", &a), 0);
	assert_int_equal(ippool_alloc(p, "gw-b", &b), 0);
	assert_int_equal(ippool_release(p, a), 0);
	/* A newcomer does not get the address just released ... */
	assert_int_equal(ippool_alloc(p, "gw-c", &c), 0);
	assert_int_not_equal(c, a);
	/* ... and the one that left gets it back on rejoin. */
	assert_int_equal(ippool_alloc(p, "gw-a", &a2), 0);
	assert_int_equal(a2, a);

	/* If someone else took it meanwhile, the rejoiner gets another one. */
	assert_int_equal(ippool_release(p, b), 0);
	ippool_free(p);
	assert_int_equal(ippool_new(&p, A4(10, 64, 0, 0), 30, 0), 0);
	assert_int_equal(ippool_alloc(p, "gw-a", &a), 0);
	assert_int_equal(ippool_release(p, a), 0);
	assert_int_equal(ippool_alloc(p, "gw-x", &b), 0); /* the other host */
	assert_int_equal(ippool_alloc(p, "gw-y", &c), 0); /* a's, by wrap */
	assert_int_equal(c, a);
	assert_int_equal(ippool_release(p, b), 0);
	assert_int_equal(ippool_alloc(p, "gw-a", &a2), 0);
	assert_int_equal(a2, b);
	ippool_free(p);
}

static void test_static_addresses(void **state)
{
	struct ippool *p;
	uint32_t a;

	assert_int_equal(ippool_new(&p, A4(10, 64, 0, 0), 26, A4(10, 64, 0, 1)), 0);
	size_t cap = ippool_available(p);
	/* Inside the range (reserved for its user) and outside it. */
	assert_int_equal(ippool_add_static(p, "site-7", A4(10, 64, 0, 2)), 0);
	assert_int_equal(ippool_add_static(p, "site-8", A4(172, 16, 9, 9)), 0);
	assert_int_equal(ippool_available(p), cap - 1);
	assert_int_equal(ippool_add_static(p, "site-7", A4(10, 64, 0, 3)), -EEXIST);
	assert_int_equal(ippool_add_static(p, "site-9", A4(10, 64, 0, 2)), -EEXIST);
	assert_int_equal(ippool_add_static(p, "site-9", A4(10, 64, 0, 1)), -EINVAL);  /* server */
	assert_int_equal(ippool_add_static(p, "site-9", A4(10, 64, 0, 0)), -EINVAL);  /* network */
	assert_int_equal(ippool_add_static(p, "site-9", A4(10, 64, 0, 63)), -EINVAL); /* bcast */
	assert_int_equal(ippool_add_static(p, "site-9", 0), -EINVAL);
	assert_int_equal(ippool_add_static(p, "", A4(10, 64, 0, 9)), -EINVAL);
	char longname[IPPOOL_NAME_MAX + 2];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(ippool_add_static(p, longname, A4(10, 64, 0, 9)), -ENAMETOOLONG);
	assert_int_equal(ippool_alloc(p, longname, &a), -ENAMETOOLONG);

	assert_int_equal(ippool_alloc(p, "site-8", &a), 0);
	assert_int_equal(a, A4(172, 16, 9, 9));
	/* Fill the dynamic part: .2 is never handed to anyone else. */
	int n = 0;
	for (;; n++) {
		char name[16];
		snprintf(name, sizeof(name), "gw%d", n);
		if (ippool_alloc(p, name, &a) < 0)
			break;
		assert_int_not_equal(a, A4(10, 64, 0, 2));
	}
	assert_int_equal(n, (int)cap - 1);
	/* The static user still gets its address, with the range full. */
	assert_int_equal(ippool_alloc(p, "site-7", &a), 0);
	assert_int_equal(a, A4(10, 64, 0, 2));
	assert_int_equal(ippool_release(p, a), 0);
	/* Released, it stays reserved. */
	assert_int_equal(ippool_alloc(p, "late", &a), -ENOSPC);
	/* A static address someone holds dynamically is refused. */
	assert_int_equal(ippool_add_static(p, "site-10", A4(10, 64, 0, 3)), -EBUSY);
	assert_int_equal(ippool_release(p, A4(172, 16, 9, 9)), 0);
	ippool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_cidr),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_exclusions_and_exhaustion),
	    cmocka_unit_test(test_stable_while_held),
	    cmocka_unit_test(test_rejoin_same_address),
	    cmocka_unit_test(test_static_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
