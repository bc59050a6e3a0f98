/* The MP-over-UDP bundle part of modemd.conf: "mode", the gateway's "bundle"
 * section and the receiver's "receiver" section, parsed and validated with
 * the same schema rules as the rest of the file (config.c): unknown settings
 * refused, file:line: setting: message. Printed by config_bundle_print.c.
 * Addresses are literals only (no DNS lookups while reading a config). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config-internal.h"
#include "util.h"

#define ADDR_TEXT_MAX 64 /* longer than any literal, shorter than junk */

/* Error about g's member key: at its line if it is set, else at g's. */
static int __attribute__((format(printf, 4, 5)))
fail_key(struct parser *p, const config_setting_t *g, const char *key, const char *fmt, ...)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return s ? cfg_fail(p, s, NULL, "%s", msg) : cfg_fail(p, g, key, "%s", msg);
}

/* ---- names, addresses, endpoint ---- */

static int addr_parse(const char *s, int family, struct cfg_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family != AF_INET6 && inet_pton(AF_INET, s, &a->v4) == 1)
		a->family = AF_INET;
	else if (family != AF_INET && inet_pton(AF_INET6, s, &a->v6) == 1)
		a->family = AF_INET6;
	return a->family ? 0 : -EINVAL;
}

static bool addr_equal(const struct cfg_addr *a, const struct cfg_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == AF_INET ? a->v4.s_addr == b->v4.s_addr
				    : memcmp(&a->v6, &b->v6, sizeof(a->v6)) == 0;
}

static bool addr_unspecified(const struct cfg_addr *a)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	return a->family == AF_INET ? a->v4.s_addr == INADDR_ANY
				    : memcmp(&a->v6, &any6, sizeof(any6)) == 0;
}

/* As ippool.c: no 0/8, loopback, multicast or class E. */
static bool v4_unicast(const struct cfg_addr *a)
{
	uint32_t h = ntohl(a->v4.s_addr);

	return a->family == AF_INET && (h >> 24) != 0 && (h >> 24) != 127 && h < 0xe0000000u;
}

#define NOT_UNICAST "must be a unicast address (not in 0.0.0.0/8, 127.0.0.0/8 or 224.0.0.0/3)"

static const char *family_words(int family)
{
	return family == AF_INET ? "must be an IPv4 address (a literal such as 192.0.2.1)"
	       : family == AF_INET6
		   ? "must be an IPv6 address (a literal such as 2001:db8::1)"
		   : "must be an IPv4 or IPv6 address (a literal, not a host name)";
}

/* family 0: either. */
static int get_addr(struct parser *p, const config_setting_t *g, const char *key, int family,
		    struct cfg_addr *out)
{
	char text[ADDR_TEXT_MAX];
	int r = cfg_get_str(p, g, key, text, sizeof(text));

	if (r > 0 && addr_parse(text, family, out) < 0)
		return cfg_fail(p, config_setting_get_member(g, key), NULL, "%s",
				family_words(family));
	return r;
}

/* Bits of a kept in a prefix of length len (network byte order in, bool out). */
static bool host_bits_zero(const struct cfg_prefix *pf)
{
	const uint8_t *b = (const uint8_t *)&pf->addr.v4;
	unsigned bits = pf->addr.family == AF_INET ? 32 : 128;

	for (unsigned i = pf->len; i < bits; i++)
		if (b[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

static void prefix_clear_host_bits(struct cfg_prefix *pf)
{
	uint8_t *b = (uint8_t *)&pf->addr.v4;
	unsigned bits = pf->addr.family == AF_INET ? 32 : 128;

	for (unsigned i = pf->len; i < bits; i++)
		b[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

/* "a.b.c.d/n" or "x::/n"; family 0: either. -EINVAL if malformed. */
static int prefix_parse(const char *s, int family, struct cfg_prefix *pf)
{
	char addr[ADDR_TEXT_MAX];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : 0;
	unsigned long len;
	char *end;

	if (!slash || alen >= sizeof(addr) || !isdigit((unsigned char)slash[1]) ||
	    strlen(slash + 1) > 3)
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = 0;
	len = strtoul(slash + 1, &end, 10);
	if (*end || addr_parse(addr, family, &pf->addr) < 0 ||
	    len > (pf->addr.family == AF_INET ? 32u : 128u))
		return -EINVAL;
	pf->len = (unsigned)len;
	return 0;
}

/* A prefix setting s (a member or a list element), checked for host bits. */
static int check_prefix(struct parser *p, const config_setting_t *s, const char *text, int family,
			struct cfg_prefix *pf)
{
	char want[ADDR_TEXT_MAX + 8];

	if (prefix_parse(text, family, pf) < 0)
		return cfg_fail(p, s, NULL, "%s",
				family == AF_INET
				    ? "must be an IPv4 prefix such as \"10.200.0.0/24\""
				    : "must be a prefix such as \"192.168.50.0/24\" or "
				      "\"2001:db8:1::/48\"");
	if (!host_bits_zero(pf)) {
		struct cfg_prefix net = *pf;
		prefix_clear_host_bits(&net);
		return cfg_fail(p, s, NULL, "has host bits set (did you mean \"%s\"?)",
				cfg_prefix_to_string(&net, want, sizeof(want)));
	}
	return 0;
}

static bool prefix_contains(const struct cfg_prefix *pf, const struct cfg_addr *a)
{
	struct cfg_prefix x = {.addr = *a, .len = pf->len};

	if (a->family != pf->addr.family)
		return false;
	prefix_clear_host_bits(&x);
	return addr_equal(&x.addr, &pf->addr);
}

/* The pool's network or broadcast address (never handed out). */
static bool pool_edge(const struct cfg_prefix *pool, const struct cfg_addr *a)
{
	uint32_t host = ~(0xffffffffu << (32 - pool->len)) & ntohl(a->v4.s_addr);

	return prefix_contains(pool, a) &&
	       (host == 0 || host == ~(0xffffffffu << (32 - pool->len)));
}

static int hex_parse(const char *s, uint8_t *out, size_t max, size_t *n)
{
	size_t l = strlen(s);

	if (l % 2 || l / 2 > max)
		return -EINVAL;
	for (size_t i = 0; i < l; i += 2) {
		char byte[3] = {s[i], s[i + 1], 0};
		if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]))
			return -EINVAL;
		out[i / 2] = (uint8_t)strtoul(byte, NULL, 16);
	}
	*n = l / 2;
	return 0;
}

/* "auto", "none", "null", "local:HEX", "ip:A.B.C.D", "mac:XX:..:XX",
 * "magic:HEX", "e164:DIGITS" (RFC 1990 §5.1.3 classes 0-5). */
static int endpoint_parse(const char *s, enum cfg_endpoint *kind, struct lcp_ed *ed)
{
	const char *v = strchr(s, ':');
	size_t n = 0;

	memset(ed, 0, sizeof(*ed));
	*kind = CFG_ED_SET;
	if (strcmp(s, "auto") == 0 || strcmp(s, "none") == 0) {
		*kind = s[0] == 'a' ? CFG_ED_AUTO : CFG_ED_NONE;
		return 0;
	}
	if (strcmp(s, "null") == 0)
		return 0; /* class 0, no address */
	if (!v)
		return -EINVAL;
	v++;
	if (strncmp(s, "local:", 6) == 0) {
		ed->class = LCP_ED_LOCAL;
		if (hex_parse(v, ed->addr, LCP_ED_MAX, &n) < 0)
			return -EINVAL;
	} else if (strncmp(s, "magic:", 6) == 0) {
		ed->class = LCP_ED_MAGIC;
		if (hex_parse(v, ed->addr, LCP_ED_MAX, &n) < 0)
			return -EINVAL;
	} else if (strncmp(s, "ip:", 3) == 0) {
		ed->class = LCP_ED_IP;
		n = 4;
		if (inet_pton(AF_INET, v, ed->addr) != 1)
			return -EINVAL;
	} else if (strncmp(s, "mac:", 4) == 0) {
		ed->class = LCP_ED_MAC;
		for (n = 0; n < 6; n++, v += 3) {
			char byte[3] = {v[0], v[0] ? v[1] : 0, 0};
			if (!isxdigit((unsigned char)byte[0]) ||
			    !isxdigit((unsigned char)byte[1]) || v[2] != (n == 5 ? 0 : ':'))
				return -EINVAL;
			ed->addr[n] = (uint8_t)strtoul(byte, NULL, 16);
		}
	} else if (strncmp(s, "e164:", 5) == 0) {
		/* The directory number as digits, as pppd sends it. */
		ed->class = LCP_ED_E164;
		n = strlen(v);
		if (n > LCP_ED_MAX || strspn(v, "0123456789") != n)
			return -EINVAL;
		memcpy(ed->addr, v, n);
	} else {
		return -EINVAL;
	}
	ed->len = (uint8_t)n;
	return lcp_ed_check(ed->class, n);
}

/* ---- typed settings ---- */

/* Interface names as the kernel takes them, minus the odd ones. */
static int get_ifname(struct parser *p, const config_setting_t *g, const char *key, char *dst)
{
	char v[64];
	int r = cfg_get_str(p, g, key, v, sizeof(v));
	size_t l = strlen(v);

	if (r <= 0)
		return r;
	if (l == 0 || l >= CFG_IFNAME_MAX ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz"
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != l ||
	    strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		return cfg_fail(
		    p, config_setting_get_member(g, key), NULL,
		    "must be an interface name: 1 to %d of A-Z, a-z, 0-9, '_', '-', '.'",
		    CFG_IFNAME_MAX - 1);
	strcpy(dst, v);
	return 1;
}

/* PPP names travel in PAP/CHAP packets and secrets files: printable ASCII. */
static int get_ppp_name(struct parser *p, const config_setting_t *g, const char *key, char *dst,
			bool empty_ok)
{
	int r = cfg_get_str(p, g, key, dst, CFG_PPP_NAME_MAX);

	if (r <= 0)
		return r;
	for (const char *c = dst; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return cfg_fail(p, config_setting_get_member(g, key), NULL,
					"must be printable ASCII");
	if (!empty_ok && !dst[0])
		return cfg_fail(p, config_setting_get_member(g, key), NULL, "must not be empty");
	return 1;
}

static int get_secret(struct parser *p, const config_setting_t *g, const char *key, char *dst)
{
	return cfg_get_str(p, g, key, dst, CFG_PPP_NAME_MAX);
}

/* auth: what we answer with; require_auth: what we ask for. */
static const struct {
	const char *name;
	unsigned set;
} auth_names[] = {
    {"none", 0},
    {"pap", LCP_AUTH_PAP},
    {"chap", LCP_AUTH_CHAP_MD5},
    {"any", LCP_AUTH_PAP | LCP_AUTH_CHAP_MD5},
};

/* Values allowed: the names in `allowed`, which is also the message. */
static int get_auth(struct parser *p, const config_setting_t *g, const char *key,
		    const char *allowed, unsigned *out)
{
	char v[16], quoted[20];
	int r = cfg_get_str(p, g, key, v, sizeof(v));

	if (r <= 0)
		return r;
	snprintf(quoted, sizeof(quoted), "\"%s\"", v);
	for (size_t i = 0; i < ARRAY_SIZE(auth_names) && v[0]; i++)
		if (strcmp(auth_names[i].name, v) == 0 && strstr(allowed, quoted)) {
			*out = auth_names[i].set;
			return 1;
		}
	return cfg_fail(p, config_setting_get_member(g, key), NULL, "must be one of %s", allowed);
}

/* ---- sections ---- */

#define PPP_KEYS                                                                                   \
	"name", "port", "tun", "mtu", "mrru", "short_seq", "endpoint", "policy", "redundancy",     \
	    "echo_interval", "dead_timeout", "auth", "require_auth", "secrets_file"

/* What both sections share. */
static int parse_ppp(struct parser *p, const config_setting_t *g, struct cfg_ppp *o, bool receiver)
{
	const config_setting_t *s;
	char v[64];
	int r;

	if ((r = get_ppp_name(p, g, "name", o->name, true)) < 0 ||
	    (r = cfg_get_uint(p, g, "port", 1, 65535, &o->port)) < 0 ||
	    (r = get_ifname(p, g, "tun", o->tun)) < 0 ||
	    (r = cfg_get_uint(p, g, "mrru", 1500, 16384, &o->mrru)) < 0 ||
	    (r = cfg_get_uint(p, g, "mtu", 576, 16384, &o->mtu)) < 0 ||
	    (r = cfg_get_bool(p, g, "short_seq", &o->short_seq)) < 0)
		return r;
	if (o->mtu > o->mrru)
		return fail_key(p, g, "mtu", "must not exceed mrru (%u)", o->mrru);
	if ((r = cfg_get_str(p, g, "endpoint", v, sizeof(v))) < 0)
		return r;
	if (r > 0 && endpoint_parse(v, &o->endpoint, &o->ed) < 0)
		return cfg_fail(p, config_setting_get_member(g, "endpoint"), NULL,
				"must be \"auto\", \"none\", \"null\", \"local:HEX\" (up to 20 "
				"bytes), \"ip:A.B.C.D\", \"mac:XX:XX:XX:XX:XX:XX\", \"magic:HEX\" "
				"(4 to 20 bytes) or \"e164:DIGITS\" (up to 15)");
	if ((r = cfg_get_str(p, g, "policy", v, sizeof(v))) < 0)
		return r;
	if (r > 0) {
		int pol = sched_policy_from_string(v);
		if (pol < 0)
			return cfg_fail(p, config_setting_get_member(g, "policy"), NULL,
					"must be one of \"earliest\", \"redundant\", \"single\"");
		o->policy = (enum sched_policy)pol;
	}
	if ((r = cfg_get_uint(p, g, "redundancy", 2, CFG_MAX_BUNDLE_LINKS, &o->redundancy)) < 0 ||
	    (r = cfg_get_uint(p, g, "echo_interval", 10, 60000, &o->echo_interval_ms)) < 0 ||
	    (r = cfg_get_uint(p, g, "dead_timeout", 100, 60000, &o->dead_timeout_ms)) < 0)
		return r;
	/* Between echoes a quiet link would otherwise count as dead. */
	if (o->dead_timeout_ms <= o->echo_interval_ms)
		return fail_key(p, g, "dead_timeout", "must be greater than echo_interval (%u)",
				o->echo_interval_ms);
	if ((r = get_auth(p, g, "auth", "\"chap\", \"pap\", \"any\"", &o->accept_auth)) < 0 ||
	    (r = get_auth(p, g, "require_auth",
			  receiver ? "\"chap\", \"pap\"" : "\"chap\", \"pap\", \"none\"",
			  &o->require_auth)) < 0)
		return r;
	s = config_setting_get_member(g, "secrets_file");
	if (s && config_setting_get_string(s) && !config_setting_get_string(s)[0])
		return cfg_fail(p, s, NULL, "must be an absolute path (leave it out for none)");
	return cfg_get_path(p, g, "secrets_file", o->secrets_file, sizeof(o->secrets_file));
}

static int parse_links(struct parser *p, const config_setting_t *g, struct config *c)
{
	static const char *const keys[] = {"name", "interface", "gateway", NULL};
	struct cfg_bundle *b = &c->bundle;
	const config_setting_t *list;
	int n = cfg_get_list(p, g, "links", CFG_MAX_BUNDLE_LINKS, &list), r;

	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		struct cfg_link *l = &b->links[i];

		if ((r = cfg_check_keys(p, e, keys)) < 0)
			return r;
		for (size_t k = 0; k < 2; k++)
			if (!config_setting_get_member(e, keys[k]))
				return cfg_fail(p, e, keys[k], "required setting is missing");
		if ((r = cfg_get_name(p, e, "name", l->name, sizeof(l->name))) < 0 ||
		    (r = get_ifname(p, e, "interface", l->interface)) < 0 ||
		    (r = get_addr(p, e, "gateway", b->receiver.family, &l->gateway)) < 0)
			return r;
		if (strcmp(l->interface, b->ppp.tun) == 0)
			return fail_key(p, e, "interface", "is the bundle's own tun device");
		for (size_t j = 0; j < c->n_static_modems; j++)
			if (strcmp(c->static_modems[j].name, l->name) == 0)
				return fail_key(p, e, "name",
						"\"%s\" is already the name of modems[%zu]",
						l->name, j);
		for (int j = 0; j < i; j++) {
			if (strcmp(b->links[j].name, l->name) == 0)
				return fail_key(p, e, "name", "\"%s\" is already used by links[%d]",
						l->name, j);
			if (strcmp(b->links[j].interface, l->interface) == 0)
				return fail_key(p, e, "interface",
						"%s is already used by links[%d]", l->interface, j);
		}
		b->n_links++;
	}
	return n < 0 ? n : 0;
}

static int parse_bundle(struct parser *p, const config_setting_t *g, struct config *c)
{
	static const char *const keys[] = {PPP_KEYS,	  "receiver", "secret", "default_route",
					   "modem_links", "links",    NULL};
	struct cfg_bundle *b = &c->bundle;
	int r;

	if (!config_setting_is_group(g))
		return cfg_fail(p, g, NULL, "must be a group: bundle = { ... };");
	if ((r = cfg_check_keys(p, g, keys)) < 0)
		return r;
	b->enabled = true;
	if (!config_setting_get_member(g, "receiver"))
		return cfg_fail(p, g, "receiver", "required setting is missing");
	if ((r = get_addr(p, g, "receiver", 0, &b->receiver)) < 0 ||
	    (r = parse_ppp(p, g, &b->ppp, false)) < 0 ||
	    (r = get_secret(p, g, "secret", b->secret)) < 0 ||
	    (r = cfg_get_bool(p, g, "default_route", &b->default_route)) < 0 ||
	    (r = cfg_get_bool(p, g, "modem_links", &b->modem_links)) < 0)
		return r;
	if (addr_unspecified(&b->receiver))
		return cfg_fail(p, config_setting_get_member(g, "receiver"), NULL,
				"must be the receiver's address, not the unspecified address");
	if (b->secret[0] && b->ppp.secrets_file[0])
		return fail_key(p, g, "secret", "set either secret or secrets_file, not both");
	if (b->ppp.require_auth && !b->secret[0] && !b->ppp.secrets_file[0])
		return fail_key(p, g, "require_auth",
				"needs secret or secrets_file (to check the receiver's answer)");
	/* The modem manager names its PPP interfaces prefix + modem name. */
	if (strncmp(b->ppp.tun, c->dial.ifname_prefix, strlen(c->dial.ifname_prefix)) == 0)
		return fail_key(p, g, "tun", "must not start with dial.ifname_prefix (\"%s\")",
				c->dial.ifname_prefix);
	return parse_links(p, g, c);
}

static int parse_users(struct parser *p, const config_setting_t *g, struct cfg_receiver *rc)
{
	static const char *const keys[] = {"name", "secret", "address", "routes", NULL};
	const config_setting_t *list;
	int n = cfg_get_list(p, g, "users", CFG_MAX_USERS, &list), r;
	char routes[CFG_MAX_USER_ROUTES][ADDR_TEXT_MAX];

	if (n <= 0)
		return n;
	rc->users = calloc((size_t)n, sizeof(*rc->users));
	if (!rc->users)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		struct cfg_user *u = &rc->users[i];

		rc->n_users++; /* counted at once: release wipes its secret */
		if ((r = cfg_check_keys(p, e, keys)) < 0)
			return r;
		if (!config_setting_get_member(e, "name"))
			return cfg_fail(p, e, "name", "required setting is missing");
		if ((r = get_ppp_name(p, e, "name", u->name, false)) < 0 ||
		    (r = get_secret(p, e, "secret", u->secret)) < 0 ||
		    (r = get_addr(p, e, "address", AF_INET, &u->address)) < 0 ||
		    (r = cfg_get_strings(p, e, "routes", routes[0], sizeof(routes[0]),
					 CFG_MAX_USER_ROUTES, &u->n_routes)) < 0)
			return r;
		if (!u->secret[0] && !rc->ppp.secrets_file[0])
			return cfg_fail(
			    p, e, "secret",
			    "required setting is missing (or set receiver.secrets_file)");
		if (u->address.family && !v4_unicast(&u->address))
			return fail_key(p, e, "address", NOT_UNICAST);
		if (u->address.family && addr_equal(&u->address, &rc->local_address))
			return fail_key(p, e, "address", "must differ from local_address");
		if (u->address.family && rc->pool.addr.family && pool_edge(&rc->pool, &u->address))
			return fail_key(p, e, "address",
					"is the network or broadcast address of pool");
		if (!u->address.family && !rc->pool.addr.family)
			return cfg_fail(p, e, "address", "required when the receiver has no pool");
		for (size_t k = 0; k < u->n_routes; k++) {
			const config_setting_t *re =
			    config_setting_get_elem(config_setting_get_member(e, "routes"), k);
			if ((r = check_prefix(p, re, routes[k], 0, &u->routes[k])) < 0)
				return r;
			if (u->routes[k].len == 0)
				return cfg_fail(p, re, NULL, "must not be a default route");
		}
		for (int j = 0; j < i; j++) {
			if (strcmp(rc->users[j].name, u->name) == 0)
				return fail_key(p, e, "name",
						"\"%s\" is already listed in users[%d]", u->name,
						j);
			if (u->address.family && addr_equal(&rc->users[j].address, &u->address))
				return fail_key(p, e, "address", "is already used by users[%d]", j);
		}
	}
	return 0;
}

static int parse_receiver(struct parser *p, const config_setting_t *g, struct cfg_receiver *rc)
{
	static const char *const keys[] = {PPP_KEYS,
					   "listen",
					   "local_address",
					   "pool",
					   "dns",
					   "users",
					   "max_gateways",
					   "max_links_per_gateway",
					   "max_unauthenticated",
					   "unauthenticated_timeout",
					   NULL};
	char text[ADDR_TEXT_MAX], dns[CFG_MAX_DNS][ADDR_TEXT_MAX];
	const config_setting_t *s;
	int r;

	if (!config_setting_is_group(g))
		return cfg_fail(p, g, NULL, "must be a group: receiver = { ... };");
	if ((r = cfg_check_keys(p, g, keys)) < 0)
		return r;
	rc->enabled = true;
	if ((r = parse_ppp(p, g, &rc->ppp, true)) < 0 ||
	    (r = get_addr(p, g, "listen", 0, &rc->listen)) < 0)
		return r;
	if (!config_setting_get_member(g, "local_address"))
		return cfg_fail(p, g, "local_address", "required setting is missing");
	if ((r = get_addr(p, g, "local_address", AF_INET, &rc->local_address)) < 0)
		return r;
	if (!v4_unicast(&rc->local_address))
		return fail_key(p, g, "local_address", NOT_UNICAST);
	if ((r = cfg_get_str(p, g, "pool", text, sizeof(text))) < 0)
		return r;
	s = config_setting_get_member(g, "pool");
	if (r > 0 && (r = check_prefix(p, s, text, AF_INET, &rc->pool)) < 0)
		return r;
	/* At most a /16: the pool is a bitmap, 8 KiB at most. */
	if (rc->pool.addr.family && (rc->pool.len < 16 || rc->pool.len > 30))
		return cfg_fail(p, s, NULL, "prefix length must be between 16 and 30");
	if (rc->pool.addr.family && !v4_unicast(&rc->pool.addr))
		return cfg_fail(
		    p, s, NULL,
		    "must be a unicast range (not in 0.0.0.0/8, 127.0.0.0/8 or 224.0.0.0/3)");
	/* local_address may sit inside the pool (it is never handed out) or outside. */
	if (rc->pool.addr.family && pool_edge(&rc->pool, &rc->local_address))
		return fail_key(p, g, "local_address",
				"is the network or broadcast address of pool");
	if ((r = cfg_get_strings(p, g, "dns", dns[0], sizeof(dns[0]), CFG_MAX_DNS, &rc->n_dns)) < 0)
		return r;
	for (size_t i = 0; i < rc->n_dns; i++) {
		s = config_setting_get_elem(config_setting_get_member(g, "dns"), i);
		if (addr_parse(dns[i], AF_INET, &rc->dns[i]) < 0)
			return cfg_fail(p, s, NULL, "%s", family_words(AF_INET));
		if (!v4_unicast(&rc->dns[i]))
			return cfg_fail(p, s, NULL, NOT_UNICAST);
	}
	if ((r = cfg_get_uint(p, g, "max_gateways", 1, 65536, &rc->max_gateways)) < 0 ||
	    (r = cfg_get_uint(p, g, "max_links_per_gateway", 1, CFG_MAX_BUNDLE_LINKS,
			      &rc->max_links_per_gateway)) < 0 ||
	    (r = cfg_get_uint(p, g, "max_unauthenticated", 1, 65536, &rc->max_unauthenticated)) <
		0 ||
	    (r = cfg_get_uint(p, g, "unauthenticated_timeout", 1000, 600000,
			      &rc->unauthenticated_timeout_ms)) < 0 ||
	    (r = parse_users(p, g, rc)) < 0)
		return r;
	if (!rc->n_users && !rc->ppp.secrets_file[0])
		return cfg_fail(p, g, "users",
				"needs users or secrets_file: no gateway could authenticate");
	return 0;
}

int config_bundle_parse(struct parser *p, const config_setting_t *root, struct config *c)
{
	const config_setting_t *mode = config_setting_get_member(root, "mode");
	const config_setting_t *b = config_setting_get_member(root, "bundle");
	const config_setting_t *rc = config_setting_get_member(root, "receiver");
	char v[16];
	int r = cfg_get_str(p, root, "mode", v, sizeof(v));

	if (r < 0)
		return r;
	if (r > 0 && strcmp(v, "gateway") != 0 && strcmp(v, "receiver") != 0)
		return cfg_fail(p, mode, NULL, "must be \"gateway\" or \"receiver\"");
	c->mode = r > 0 && v[0] == 'r' ? CFG_MODE_RECEIVER : CFG_MODE_GATEWAY;
	if (c->mode == CFG_MODE_RECEIVER) {
		if (b)
			return cfg_fail(
			    p, b, NULL,
			    "is the gateway side: not allowed with mode = \"receiver\"");
		if (!rc)
			return cfg_fail(p, mode, NULL,
					"\"receiver\" needs a receiver = { ... } section");
		return parse_receiver(p, rc, &c->receiver);
	}
	if (rc)
		return cfg_fail(
		    p, rc, NULL,
		    "needs mode = \"receiver\" (a gateway is set up in bundle = { ... })");
	return b ? parse_bundle(p, b, c) : 0;
}

/* ---- defaults ---- */

static void ppp_defaults(struct cfg_ppp *o, unsigned require_auth)
{
	*o = (struct cfg_ppp){
	    .port = CFG_BUNDLE_PORT,
	    .tun = "mp0",
	    .mtu = 1400,
	    .mrru = 1600,
	    .endpoint = CFG_ED_AUTO,
	    .policy = SCHED_EARLIEST,
	    .redundancy = 2,
	    .echo_interval_ms = 200,
	    .dead_timeout_ms = 1000,
	    .accept_auth = LCP_AUTH_CHAP_MD5,
	    .require_auth = require_auth,
	};
}

void config_bundle_defaults(struct config *c)
{
	struct cfg_bundle *b = &c->bundle;
	struct cfg_receiver *rc = &c->receiver;

	c->mode = CFG_MODE_GATEWAY;
	memset(b, 0, sizeof(*b));
	ppp_defaults(&b->ppp, 0);
	b->modem_links = true;
	memset(rc, 0, sizeof(*rc));
	ppp_defaults(&rc->ppp, LCP_AUTH_CHAP_MD5);
	rc->listen.family = AF_INET; /* 0.0.0.0 */
	rc->max_gateways = 1024;
	rc->max_links_per_gateway = 8;
	rc->max_unauthenticated = 256;
	rc->unauthenticated_timeout_ms = 10000;
}
