/* mpctl status [--json]: the daemon's view of every modem, as a table for
 * people or as the daemon's JSON for scripts. */
#include "client.h"
#include "commands.h"
#include "output.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum {
	C_NAME,
	C_MODEL,
	C_IMEI,
	C_CARRIER,
	C_APN,
	C_SIGNAL,
	C_REG,
	C_STATE,
	C_IFACE,
	C_ADDRESS,
	C_UPTIME,
	C_REDIALS,
	C_N
};
static const char *const headers[C_N] = {
    "NAME", "MODEL", "IMEI",  "CARRIER", "APN",	   "SIGNAL",
    "REG",  "STATE", "IFACE", "ADDRESS", "UPTIME", "REDIALS",
};

static bool jint(json_object *o, const char *key, int64_t *out)
{
	json_object *v = json_get(o, key);
	if (!v ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* 27.007 CSQ to 0..4 bars, the usual phone thresholds. */
static int csq_bars(int64_t csq)
{
	return csq < 2 ? 0 : csq < 10 ? 1 : csq < 15 ? 2 : csq < 20 ? 3 : 4;
}

static void set_signal(struct table *t, json_object *sig)
{
	int64_t dbm, csq;
	bool have_dbm = jint(sig, "rssi_dbm", &dbm), have_csq = jint(sig, "csq", &csq);
	if (!have_dbm && !have_csq)
		return;
	static const char *const glyph[] = {"▂", "▄", "▆", "█"};
	char bars[32] = "";
	int n = have_csq ? csq_bars(csq) : 0;
	for (int i = 0; i < 4; i++)
		strcat(bars, i < n ? glyph[i] : "_");
	enum out_color c = !have_csq ? OUT_PLAIN
			   : n >= 3  ? OUT_GREEN
			   : n >= 2  ? OUT_YELLOW
				     : OUT_RED;
	if (have_dbm)
		table_set(t, C_SIGNAL, c, "%" PRId64 "dBm %s", dbm, bars);
	else
		table_set(t, C_SIGNAL, c, "%s", bars);
}

static void set_uptime(struct table *t, json_object *m)
{
	int64_t s;
	if (!jint(m, "uptime_seconds", &s) || s < 0)
		return;
	if (s < 60)
		table_set(t, C_UPTIME, OUT_PLAIN, "%" PRId64 "s", s);
	else if (s < 3600)
		table_set(t, C_UPTIME, OUT_PLAIN, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		table_set(t, C_UPTIME, OUT_PLAIN, "%" PRId64 "h%02" PRId64 "m", s / 3600,
			  s / 60 % 60);
	else
		table_set(t, C_UPTIME, OUT_PLAIN, "%" PRId64 "d%02" PRId64 "h", s / 86400,
			  s / 3600 % 24);
}

/* Green: carrying traffic; red: needs a person (SIM, APN, hardware);
 * yellow: on its way; admin down is dim, it is what was asked for. */
static enum out_color state_color(const char *st)
{
	if (!strcmp(st, "connected"))
		return OUT_GREEN;
	if (!strcmp(st, "down"))
		return OUT_DIM;
	if (!strcmp(st, "sim-locked") || !strcmp(st, "no-apn") || !strcmp(st, "gone"))
		return OUT_RED;
	return OUT_YELLOW;
}

static void add_modem(struct table *t, json_object *m)
{
	if (table_add_row(t) < 0)
		return;
	table_set(t, C_NAME, OUT_PLAIN, "%s", nz(json_str(m, "name")));
	table_set(t, C_MODEL, OUT_PLAIN, "%s", nz(json_str(m, "model")));
	const char *imei = json_str(m, "imei");
	if (imei && strlen(imei) > 4)
		table_set(t, C_IMEI, OUT_PLAIN, "…%s", imei + strlen(imei) - 4);
	else
		table_set(t, C_IMEI, OUT_PLAIN, "%s", nz(imei));
	/* The carrier's name comes from the APN profile (the operator is
	 * numeric after AT+COPS=3,2); show the PLMN next to it. */
	json_object *apn = json_get(m, "apn");
	const char *op = json_str(apn, "provider"), *plmn = json_str(m, "plmn");
	if (!op || (plmn && strcmp(op, plmn) == 0))
		op = json_str(m, "operator");
	if (op && plmn && strcmp(op, plmn) == 0)
		op = NULL;
	table_set(t, C_CARRIER, OUT_PLAIN, "%s%s%s", nz(op), op && plmn ? " " : "", plmn ? plmn : "");
	const char *a = json_str(apn, "apn");
	/* CDMA profiles have no APN: the dial string says what is used. */
	table_set(t, C_APN, OUT_PLAIN, "%s", a ? a : nz(json_str(apn, "number")));
	set_signal(t, json_get(m, "signal"));
	table_set(t, C_REG, OUT_PLAIN, "%s", nz(json_str(m, "registration")));
	const char *st = nz(json_str(m, "state")), *why = json_str(m, "reason");
	table_set(t, C_STATE, state_color(st), "%s%s%s%s", st, why ? " (" : "", nz(why),
		  why ? ")" : "");
	table_set(t, C_IFACE, OUT_PLAIN, "%s", nz(json_str(m, "ifname")));
	table_set(t, C_ADDRESS, OUT_PLAIN, "%s", nz(json_str(m, "local_address")));
	set_uptime(t, m);
	int64_t redials;
	if (jint(m, "redials", &redials))
		table_set(t, C_REDIALS, OUT_PLAIN, "%" PRId64, redials);
}

/* ---- bundle: one block, one row per link ---- */

enum { L_NAME, L_KIND, L_IFACE, L_PHASE, L_LIVE, L_RTT, L_LOSS, L_OUT, L_IN, L_SHARE, L_TX, L_RX, L_N };
static const char *const link_headers[L_N] = {
    "LINK", "KIND", "IFACE", "PHASE", "LIVE", "RTT", "LOSS", "OUT", "IN", "SHARE", "TX", "RX",
};

static void set_rate(struct table *t, size_t col, json_object *l, const char *key)
{
	int64_t v;
	if (!jint(l, key, &v) || v <= 0)
		return;
	double bits = (double)v * 8;
	if (bits >= 1e6)
		table_set(t, col, OUT_PLAIN, "%.1fM", bits / 1e6);
	else
		table_set(t, col, OUT_PLAIN, "%.0fk", bits / 1e3);
}

static void set_bytes(struct table *t, size_t col, json_object *l, const char *key)
{
	int64_t v;
	if (!jint(l, key, &v))
		return;
	if (v >= 1 << 20)
		table_set(t, col, OUT_PLAIN, "%.1fMiB", (double)v / (1 << 20));
	else if (v >= 1 << 10)
		table_set(t, col, OUT_PLAIN, "%.1fKiB", (double)v / (1 << 10));
	else
		table_set(t, col, OUT_PLAIN, "%" PRId64 "B", v);
}

static void add_link(struct table *t, json_object *l)
{
	int64_t v;
	if (table_add_row(t) < 0)
		return;
	table_set(t, L_NAME, OUT_PLAIN, "%s", nz(json_str(l, "name")));
	table_set(t, L_KIND, OUT_PLAIN, "%s", nz(json_str(l, "kind")));
	table_set(t, L_IFACE, OUT_PLAIN, "%s", nz(json_str(l, "interface")));
	const char *ph = nz(json_str(l, "phase")), *why = json_str(l, "reason");
	table_set(t, L_PHASE, !strcmp(ph, "network") ? OUT_GREEN : OUT_YELLOW, "%s%s%s%s", ph,
		  why ? " (" : "", nz(why), why ? ")" : "");
	const char *live = json_str(l, "liveness");
	table_set(t, L_LIVE,
		  !live ? OUT_PLAIN : !strcmp(live, "alive") ? OUT_GREEN
				    : !strcmp(live, "dead") ? OUT_RED : OUT_YELLOW,
		  "%s", nz(live));
	if (jint(l, "srtt_us", &v))
		table_set(t, L_RTT, OUT_PLAIN, "%.1fms", (double)v / 1000);
	if (jint(l, "loss_ppm", &v))
		table_set(t, L_LOSS, OUT_PLAIN, "%.1f%%", (double)v / 10000);
	set_rate(t, L_OUT, l, "rate_out_Bps");
	set_rate(t, L_IN, l, "rate_in_Bps");
	if (jint(l, "share_permille", &v))
		table_set(t, L_SHARE, OUT_PLAIN, "%.0f%%", (double)v / 10);
	set_bytes(t, L_TX, l, "tx_bytes");
	set_bytes(t, L_RX, l, "rx_bytes");
}

static void print_links(json_object *links)
{
	size_t n = links && json_object_is_type(links, json_type_array)
		       ? json_object_array_length(links)
		       : 0;
	struct table *t = n ? table_new(link_headers, L_N) : NULL;
	if (!t) {
		printf("  no links\n");
		return;
	}
	for (size_t i = 0; i < n; i++)
		add_link(t, json_object_array_get_idx(links, i));
	table_print(t, stdout, out_want_color(stdout));
	table_free(t);
}

/* Gateway: "bundle mp0 up 10.88.0.2 -> 10.88.0.1, receiver 203.0.113.10:6671" */
static void print_bundle(json_object *b)
{
	int64_t members = 0;
	jint(json_get(b, "stats"), "members", &members);
	const char *la = json_str(b, "local_address"), *pa = json_str(b, "peer_address");
	printf("\nbundle %s %s%s%s%s%s, receiver %s, %" PRId64 " link(s) joined\n",
	       nz(json_str(b, "tun")), nz(json_str(b, "state")), la ? " " : "", nz(la),
	       pa ? " -> " : "", nz(pa), nz(json_str(b, "receiver")), members);
	print_links(json_get(b, "links"));
}

/* Receiver: one block per gateway. */
static void print_gateways(json_object *info, json_object *gws)
{
	int64_t unauth = 0;
	jint(info, "unauthenticated", &unauth);
	size_t n = gws && json_object_is_type(gws, json_type_array) ? json_object_array_length(gws)
								      : 0;
	printf("receiver %s on %s:%s, TUN %s, %zu gateway(s), %" PRId64 " unauthenticated\n",
	       nz(json_str(info, "name")), nz(json_str(info, "listen")),
	       nz(json_object_get_string(json_get(info, "port"))), nz(json_str(info, "tun")), n,
	       unauth);
	for (size_t i = 0; i < n; i++) {
		json_object *g = json_object_array_get_idx(gws, i);
		printf("\ngateway %s (%s) %s %s\n", nz(json_str(g, "name")),
		       nz(json_str(g, "bundle")), nz(json_str(g, "state")),
		       nz(json_str(g, "address")));
		print_links(json_get(g, "links"));
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: mpctl status [--json]\n");
	return MPCTL_EXIT_USAGE;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return usage();
	}
	if (optind != argc)
		return usage();

	json_object *reply;
	int r = client_call("status", NULL, &reply);
	if (r != MPCTL_EXIT_OK)
		return r;
	if (json) {
		/* The daemon's reply as it is, only indented. */
		puts(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(reply);
		return MPCTL_EXIT_OK;
	}
	const char *mode = json_str(reply, "mode");
	if (mode && !strcmp(mode, "receiver")) {
		print_gateways(json_get(reply, "receiver"), json_get(reply, "gateways"));
		json_object_put(reply);
		return MPCTL_EXIT_OK;
	}
	json_object *modems = json_get(reply, "modems");
	struct table *t = table_new(headers, C_N);
	if (!t) {
		json_object_put(reply);
		return MPCTL_EXIT_FAILURE;
	}
	size_t n = modems && json_object_is_type(modems, json_type_array)
		       ? json_object_array_length(modems)
		       : 0;
	for (size_t i = 0; i < n; i++)
		add_modem(t, json_object_array_get_idx(modems, i));
	if (n)
		table_print(t, stdout, out_want_color(stdout));
	else
		printf("no modems\n");
	table_free(t);
	json_object *bundle = json_get(reply, "bundle");
	if (bundle && json_object_is_type(bundle, json_type_object))
		print_bundle(bundle);
	json_object_put(reply);
	return MPCTL_EXIT_OK;
}
