/* The bundle sections of the config value: printer (normalised, parses
 * again, secrets hidden unless asked), secrets count, release, lookups.
 * Parsing and validation are in config_bundle.c. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config-internal.h"
#include "util.h"

const char *config_mode_to_string(enum cfg_mode m)
{
	switch (m) {
	case CFG_MODE_GATEWAY:
		return "gateway";
	case CFG_MODE_RECEIVER:
		return "receiver";
	}
	return "?";
}

const char *config_addr_to_string(const struct cfg_addr *a, char *buf, size_t len)
{
	if (len)
		buf[0] = 0;
	if (a->family && !inet_ntop(a->family, &a->v4, buf, (socklen_t)len) && len)
		buf[0] = 0;
	return buf;
}

const char *cfg_prefix_to_string(const struct cfg_prefix *pf, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", config_addr_to_string(&pf->addr, a, sizeof(a)), pf->len);
	return buf;
}

static const char *auth_to_string(unsigned set)
{
	switch (set) {
	case 0:
		return "none";
	case LCP_AUTH_PAP:
		return "pap";
	case LCP_AUTH_CHAP_MD5:
		return "chap";
	case LCP_AUTH_PAP | LCP_AUTH_CHAP_MD5:
		return "any";
	}
	return "?";
}

static void endpoint_print(FILE *f, enum cfg_endpoint kind, const struct lcp_ed *ed)
{
	static const char *const prefix[] = {"null", "local:", "ip:", "mac:", "magic:", "e164:"};
	char buf[80];
	size_t off;

	if (kind != CFG_ED_SET || ed->class >= ARRAY_SIZE(prefix)) {
		cfg_put_kv(f, "\t", "endpoint", kind == CFG_ED_NONE ? "none" : "auto");
		return;
	}
	off = (size_t)snprintf(buf, sizeof(buf), "%s", prefix[ed->class]);
	for (size_t i = 0; i < ed->len && off + 4 < sizeof(buf); i++) {
		const char *sep = i && ed->class == LCP_ED_IP	 ? "."
				  : i && ed->class == LCP_ED_MAC ? ":"
								 : "";
		if (ed->class == LCP_ED_E164)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%c", ed->addr[i]);
		else if (ed->class == LCP_ED_IP)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%u", sep,
						ed->addr[i]);
		else
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%02x", sep,
						ed->addr[i]);
	}
	cfg_put_kv(f, "\t", "endpoint", buf);
}

static void put_addr(FILE *f, const char *indent, const char *key, const struct cfg_addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	cfg_put_kv(f, indent, key, config_addr_to_string(a, buf, sizeof(buf)));
}

static void print_ppp(FILE *f, const struct cfg_ppp *o)
{
	cfg_put_kv(f, "\t", "name", o->name);
	fprintf(f, "\tport = %u;\n", o->port);
	cfg_put_kv(f, "\t", "tun", o->tun);
	fprintf(f, "\tmtu = %u;\n\tmrru = %u;\n", o->mtu, o->mrru);
	fprintf(f, "\tshort_seq = %s;\n", o->short_seq ? "true" : "false");
	endpoint_print(f, o->endpoint, &o->ed);
	cfg_put_kv(f, "\t", "policy", sched_policy_to_string(o->policy));
	fprintf(f, "\tredundancy = %u;\n", o->redundancy);
	fprintf(f, "\techo_interval = %u;\n\tdead_timeout = %u;\n", o->echo_interval_ms,
		o->dead_timeout_ms);
	cfg_put_kv(f, "\t", "auth", auth_to_string(o->accept_auth));
	cfg_put_kv(f, "\t", "require_auth", auth_to_string(o->require_auth));
	if (o->secrets_file[0])
		cfg_put_kv(f, "\t", "secrets_file", o->secrets_file);
}

static void print_bundle(FILE *f, const struct cfg_bundle *b, bool show)
{
	fputs("\nbundle = {\n", f);
	put_addr(f, "\t", "receiver", &b->receiver);
	print_ppp(f, &b->ppp);
	if (b->secret[0])
		cfg_put_secret(f, "\t", "secret", b->secret, show);
	fprintf(f, "\tdefault_route = %s;\n", b->default_route ? "true" : "false");
	fprintf(f, "\tmodem_links = %s;\n", b->modem_links ? "true" : "false");
	fputs("\tlinks = (", f);
	for (size_t i = 0; i < b->n_links; i++) {
		const struct cfg_link *l = &b->links[i];
		fprintf(f, "%s\n\t\t{\n", i ? "," : "");
		cfg_put_kv(f, "\t\t\t", "name", l->name);
		cfg_put_kv(f, "\t\t\t", "interface", l->interface);
		if (l->gateway.family)
			put_addr(f, "\t\t\t", "gateway", &l->gateway);
		fputs("\t\t}", f);
	}
	fputs(b->n_links ? "\n\t);\n};\n" : " );\n};\n", f);
}

static void put_list(FILE *f, const char *indent, const char *key, const char *const *v, size_t n)
{
	fprintf(f, "%s%s = [", indent, key);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : " ", f);
		cfg_put_str(f, v[i]);
	}
	fputs(" ];\n", f);
}

static void print_receiver(FILE *f, const struct cfg_receiver *rc, bool show)
{
	char text[CFG_MAX_USER_ROUTES][INET6_ADDRSTRLEN + 8];
	const char *v[CFG_MAX_USER_ROUTES];

	fputs("\nreceiver = {\n", f);
	put_addr(f, "\t", "listen", &rc->listen);
	print_ppp(f, &rc->ppp);
	put_addr(f, "\t", "local_address", &rc->local_address);
	if (rc->pool.addr.family)
		cfg_put_kv(f, "\t", "pool",
			   cfg_prefix_to_string(&rc->pool, text[0], sizeof(text[0])));
	for (size_t i = 0; i < rc->n_dns; i++)
		v[i] = config_addr_to_string(&rc->dns[i], text[i], sizeof(text[i]));
	put_list(f, "\t", "dns", v, rc->n_dns);
	fprintf(f, "\tmax_gateways = %u;\n\tmax_links_per_gateway = %u;\n", rc->max_gateways,
		rc->max_links_per_gateway);
	fprintf(f, "\tmax_unauthenticated = %u;\n\tunauthenticated_timeout = %u;\n",
		rc->max_unauthenticated, rc->unauthenticated_timeout_ms);
	fputs("\tusers = (", f);
	for (size_t i = 0; i < rc->n_users; i++) {
		const struct cfg_user *u = &rc->users[i];
		fprintf(f, "%s\n\t\t{\n", i ? "," : "");
		cfg_put_kv(f, "\t\t\t", "name", u->name);
		if (u->secret[0])
			cfg_put_secret(f, "\t\t\t", "secret", u->secret, show);
		if (u->address.family)
			put_addr(f, "\t\t\t", "address", &u->address);
		for (size_t k = 0; k < u->n_routes; k++)
			v[k] = cfg_prefix_to_string(&u->routes[k], text[k], sizeof(text[k]));
		put_list(f, "\t\t\t", "routes", v, u->n_routes);
		fputs("\t\t}", f);
	}
	fputs(rc->n_users ? "\n\t);\n};\n" : " );\n};\n", f);
}

void config_bundle_print(const struct config *c, FILE *f, bool show_secrets)
{
	fprintf(f, "\nmode = \"%s\";\n", config_mode_to_string(c->mode));
	if (c->mode == CFG_MODE_GATEWAY && c->bundle.enabled)
		print_bundle(f, &c->bundle, show_secrets);
	if (c->mode == CFG_MODE_RECEIVER && c->receiver.enabled)
		print_receiver(f, &c->receiver, show_secrets);
}

bool config_bundle_has_secrets(const struct config *c)
{
	if (c->bundle.enabled && c->bundle.secret[0])
		return true;
	for (size_t i = 0; c->receiver.enabled && i < c->receiver.n_users; i++)
		if (c->receiver.users[i].secret[0])
			return true;
	return false;
}

void config_bundle_release(struct config *c)
{
	/* Secrets do not linger in freed memory. */
	explicit_bzero(c->bundle.secret, sizeof(c->bundle.secret));
	for (size_t i = 0; c->receiver.users && i < c->receiver.n_users; i++)
		explicit_bzero(c->receiver.users[i].secret, sizeof(c->receiver.users[i].secret));
	freep(&c->receiver.users);
	c->receiver.n_users = 0;
}

const struct cfg_user *config_find_user(const struct config *c, const char *name)
{
	for (size_t i = 0; name && i < c->receiver.n_users; i++)
		if (strcmp(c->receiver.users[i].name, name) == 0)
			return &c->receiver.users[i];
	return NULL;
}
