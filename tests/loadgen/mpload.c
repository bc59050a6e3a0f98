/* mpload: N simulated gateways x L links against a modemd receiver. See
 * mload.h and tests/loadgen/README section in docs/testing.md.
 *
 *   mpload --rx 10.250.0.1 -g 100 -l 3 --dst 10.99.0.1 --mbit 100
 *
 * Control on stdin, one command a line: `stats` (one JSON line on stdout),
 * `rate PPS [SIZE]`, `mbit MBIT [SIZE]` (0: idle, echoes only), `quit`.
 * Once every gateway has its IPCP address a line {"event":"up",...} is
 * printed; at exit {"event":"exit",...}. */
#include "mload.h"

#include "log.h"
#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#define ML_HOUSEKEEP_MS 50
#define ML_STOP_MS	1500 /* wait for Terminate-Acks at exit */

static volatile sig_atomic_t stop_sig;

static void on_signal(int s)
{
	stop_sig = s;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mpload --rx ADDR[:PORT] [options]\n"
		"  -g, --gateways N      simulated gateways (10)\n"
		"  -l, --links N         links per gateway, 1..%d (3)\n"
		"      --src A[,B...]    local addresses the links' sockets bind to (any)\n"
		"      --first N         number of the first gateway (1)\n"
		"      --user PREFIX     user name = PREFIX + number (gw)\n"
		"      --secret PREFIX   secret = PREFIX + number (secret-)\n"
		"      --pap             authenticate with PAP instead of CHAP-MD5\n"
		"      --echo-ms MS      LCP echo interval (200, the gateway default)\n"
		"      --ramp N          links started per second (2000; 0: all at once)\n"
		"      --dst ADDR        destination of the data packets (none: no data)\n"
		"      --dport PORT      their UDP port (9)\n"
		"      --pps N | --mbit M  aggregate data rate (0: echoes only)\n"
		"      --size BYTES      IP packet size, 64..1600 (1200)\n"
		"      --duration S      exit after S seconds (0: at `quit` or stdin EOF)\n"
		"      --seed N          Endpoint Discriminator salt (pid)\n"
		"  -v, --verbose\n",
		ML_MAX_LINKS);
}

static int parse_addr(const char *s, struct in_addr *a)
{
	return inet_pton(AF_INET, s, a) == 1 ? 0 : -EINVAL;
}

static int parse_opts(struct ml_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"rx", required_argument, NULL, 'r'},      {"gateways", required_argument, NULL, 'g'},
	    {"links", required_argument, NULL, 'l'},   {"src", required_argument, NULL, 's'},
	    {"first", required_argument, NULL, 'F'},   {"user", required_argument, NULL, 'U'},
	    {"secret", required_argument, NULL, 'S'},  {"pap", no_argument, NULL, 'P'},
	    {"echo-ms", required_argument, NULL, 'e'}, {"ramp", required_argument, NULL, 'R'},
	    {"dst", required_argument, NULL, 'd'},     {"dport", required_argument, NULL, 'D'},
	    {"pps", required_argument, NULL, 'p'},     {"mbit", required_argument, NULL, 'm'},
	    {"size", required_argument, NULL, 'z'},    {"duration", required_argument, NULL, 't'},
	    {"seed", required_argument, NULL, 'x'},    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	double mbit = -1;
	bool have_rx = false;
	*o = (struct ml_opts){.gateways = 10,
			      .links = 3,
			      .first = 1,
			      .user_prefix = "gw",
			      .secret_prefix = "secret-",
			      .echo_ms = 200,
			      .ramp_per_s = 2000,
			      .dport = 9,
			      .size = 1200,
			      .seed = (unsigned)getpid()};
	int c;
	while ((c = getopt_long(argc, argv, "g:l:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'r': {
			char host[64];
			snprintf(host, sizeof(host), "%s", optarg);
			char *colon = strchr(host, ':');
			unsigned port = UDP_DEFAULT_PORT;
			if (colon) {
				*colon = 0;
				port = (unsigned)strtoul(colon + 1, NULL, 10);
			}
			o->rx = (struct sockaddr_in){.sin_family = AF_INET,
						     .sin_port = htons((uint16_t)port)};
			if (parse_addr(host, &o->rx.sin_addr) < 0 || !port || port > 65535)
				return -EINVAL;
			have_rx = true;
			break;
		}
		case 'g':
			o->gateways = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			o->links = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's': {
			char buf[1024];
			snprintf(buf, sizeof(buf), "%s", optarg);
			o->n_src = 0;
			for (char *save, *t = strtok_r(buf, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				if (o->n_src == ML_MAX_SRC || parse_addr(t, &o->src[o->n_src]) < 0)
					return -EINVAL;
				o->n_src++;
			}
			break;
		}
		case 'F':
			o->first = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'U':
			o->user_prefix = optarg;
			break;
		case 'S':
			o->secret_prefix = optarg;
			break;
		case 'P':
			o->pap = true;
			break;
		case 'e':
			o->echo_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'R':
			o->ramp_per_s = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			if (parse_addr(optarg, &o->dst) < 0)
				return -EINVAL;
			break;
		case 'D':
			o->dport = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o->pps = strtod(optarg, NULL);
			break;
		case 'm':
			mbit = strtod(optarg, NULL);
			break;
		case 'z':
			o->size = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			o->duration_s = strtod(optarg, NULL);
			break;
		case 'x':
			o->seed = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (!have_rx || optind != argc || !o->gateways || o->gateways > 65536 || !o->links ||
	    o->links > ML_MAX_LINKS || o->size < 64 || o->size > 1600 || o->echo_ms < 10)
		return -EINVAL;
	if (strlen(o->user_prefix) > 40 || strlen(o->secret_prefix) > 40)
		return -EINVAL;
	if (mbit >= 0)
		o->pps = mbit * 1e6 / 8 / o->size;
	if (!o->n_src)
		o->n_src = 1; /* INADDR_ANY */
	return 0;
}

/* ---- stats ---- */

static void print_stats(struct mload *ml, const char *event)
{
	uint64_t now = ml_now_us();
	uint64_t txq_dropped = 0, txq_queued = 0, tx_frames = 0, reasm_lost = 0;
	for (unsigned i = 0; i < ml->o.gateways; i++) {
		if (!ml->gw[i].b)
			continue;
		struct bundle_stats bs;
		bundle_get_stats(ml->gw[i].b, &bs);
		txq_dropped += bs.txq_dropped;
		txq_queued += bs.txq_queued;
		tx_frames += bs.tx_frames;
		reasm_lost += bs.reasm.lost;
	}
	const struct ml_stats *s = &ml->st;
	printf("{\"event\":\"%s\",\"t\":%.3f,\"gateways\":%u,\"links\":%u,\"links_started\":%u,"
	       "\"links_joined\":%u,\"gateways_up\":%u,\"auth_s\":%.3f,\"setup_s\":%.3f,"
	       "\"pps\":%.1f,\"size\":%u,\"tx_pkts\":%llu,\"tx_bytes\":%llu,\"tx_frames\":%llu,"
	       "\"tx_refused\":%llu,\"txq_queued\":%llu,\"txq_dropped\":%llu,\"gen_skipped\":%llu,"
	       "\"send_errors\":%llu,\"rx_dgrams\":%llu,\"rx_bytes\":%llu,\"link_downs\":%llu,"
	       "\"reopens\":%llu,\"ipcp_restarts\":%llu,\"delivered_pkts\":%llu,"
	       "\"reasm_lost\":%llu,\"link_dead\":%llu,\"link_alive\":%llu,"
	       "\"timer_lag_max_ms\":%.1f,\"timers\":%zu}\n",
	       event, (double)(now - ml->t0_us) / 1e6, ml->o.gateways, ml->o.gateways * ml->o.links,
	       ml->started_links, ml_links_joined(ml), ml_gateways_up(ml),
	       ml->auth_done_us ? (double)ml->auth_done_us / 1e6 : -1.0,
	       ml->up_done_us ? (double)ml->up_done_us / 1e6 : -1.0, ml->o.pps, ml->o.size,
	       (unsigned long long)s->tx_pkts, (unsigned long long)s->tx_bytes,
	       (unsigned long long)tx_frames, (unsigned long long)s->tx_refused,
	       (unsigned long long)txq_queued, (unsigned long long)txq_dropped,
	       (unsigned long long)s->gen_skipped, (unsigned long long)s->send_errors,
	       (unsigned long long)s->rx_dgrams, (unsigned long long)s->rx_bytes,
	       (unsigned long long)s->link_downs, (unsigned long long)s->reopens,
	       (unsigned long long)s->ipcp_restarts, (unsigned long long)s->delivered_pkts,
	       (unsigned long long)reasm_lost, (unsigned long long)s->link_dead,
	       (unsigned long long)s->link_alive, (double)ml_clock_take_lag_us(ml->clk) / 1e3,
	       ml_clock_count(ml->clk));
	fflush(stdout);
}

/* ---- control on stdin ---- */

struct ctl {
	char buf[512];
	size_t len;
	bool eof;
};

/* Returns true when asked to quit. */
static bool ctl_line(struct mload *ml, char *line)
{
	double v = 0;
	unsigned size = 0;
	if (!strcmp(line, "stats")) {
		print_stats(ml, "stats");
	} else if (!strcmp(line, "quit")) {
		return true;
	} else if (sscanf(line, "rate %lf %u", &v, &size) >= 1 && v >= 0) {
		ml_data_set_rate(ml, v, size);
		printf("{\"event\":\"rate\",\"pps\":%.1f,\"size\":%u}\n", ml->o.pps, ml->o.size);
	} else if (sscanf(line, "mbit %lf %u", &v, &size) >= 1 && v >= 0) {
		unsigned sz = size ? size : ml->o.size;
		ml_data_set_rate(ml, v * 1e6 / 8 / sz, size);
		printf("{\"event\":\"rate\",\"pps\":%.1f,\"size\":%u}\n", ml->o.pps, ml->o.size);
	} else if (line[0]) {
		printf("{\"event\":\"error\",\"error\":\"unknown command\"}\n");
	}
	fflush(stdout);
	return false;
}

static bool ctl_read(struct mload *ml, struct ctl *c)
{
	ssize_t n = read(0, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true;
			epoll_ctl(ml->ep, EPOLL_CTL_DEL, 0, NULL);
		}
		return false;
	}
	c->len += (size_t)n;
	c->buf[c->len] = 0;
	char *nl;
	while ((nl = strchr(c->buf, '\n'))) {
		*nl = 0;
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = 0;
		if (ctl_line(ml, c->buf))
			return true;
		size_t used = (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len - used + 1);
		c->len -= used;
	}
	if (c->len == sizeof(c->buf) - 1)
		c->len = 0; /* an absurd line: forget it */
	return false;
}

/* ---- the loop ---- */

static int loop_once(struct mload *ml, int timeout_ms, struct ctl *ctl, bool *quit)
{
	struct epoll_event evs[256];
	int n = epoll_wait(ml->ep, evs, 256, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (!evs[i].data.ptr) {
			if (ctl_read(ml, ctl))
				*quit = true;
			continue;
		}
		ml_link_io(ml, evs[i].data.ptr);
	}
	ml_clock_run(ml->clk);
	return 0;
}

static int timeout_ms(struct mload *ml, int data_ms, uint64_t next_house)
{
	uint64_t now = ml_now_us(), t = ml_clock_next_us(ml->clk);
	uint64_t h = next_house > now ? next_house - now : 0;
	if (h < t)
		t = h;
	if (data_ms >= 0 && (uint64_t)data_ms * 1000 < t)
		t = (uint64_t)data_ms * 1000;
	return (int)((t + 999) / 1000);
}

static void shutdown_links(struct mload *ml, struct ctl *ctl)
{
	for (unsigned i = 0; i < ml->o.gateways; i++)
		for (unsigned k = 0; k < ml->o.links; k++) {
			struct mlink *l = &ml->gw[i].link[k];
			if (l->pl && !l->finished)
				plink_close(l->pl, "mpload exiting");
		}
	uint64_t end = ml_now_us() + ML_STOP_MS * 1000ull;
	bool quit = false;
	while (ml_now_us() < end) {
		bool all = true;
		for (unsigned i = 0; i < ml->o.gateways && all; i++)
			for (unsigned k = 0; k < ml->o.links && all; k++)
				if (ml->gw[i].link[k].pl && !ml->gw[i].link[k].finished)
					all = false;
		if (all)
			break;
		if (loop_once(ml, 20, ctl, &quit) < 0)
			break;
	}
}

static void raise_nofile(unsigned need)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	if (rl.rlim_max < need) {
		struct rlimit up = {need, need};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
	static struct mload ml;
	struct ctl ctl = {0};
	if (parse_opts(&ml.o, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	if (ml.o.pps > 0 && !ml.o.dst.s_addr) {
		fprintf(stderr, "mpload: a data rate needs --dst\n");
		return 2;
	}
	raise_nofile(ml.o.gateways * ml.o.links + 64);
	/* The core's per-link info lines would be most of our output. */
	log_set_level(ml.o.verbose ? LOG_INFO : LOG_WARNING);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	ml.clk = ml_clock_new();
	ml.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!ml.clk || ml.ep < 0)
		return 1;
	ml_clock_pclock(ml.clk, &ml.pclk);
	ml.t0_us = ml_now_us();
	int r = ml_gw_init(&ml);
	if (r < 0) {
		fprintf(stderr, "mpload: %s\n", strerror(-r));
		return 1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(ml.ep, EPOLL_CTL_ADD, 0, &ev) < 0)
		ctl.eof = true; /* stdin is /dev/null or a file: no control */
	ml_data_set_rate(&ml, ml.o.pps, 0);
	uint64_t next_house = 0, end = ml.o.duration_s > 0
					   ? ml.t0_us + (uint64_t)(ml.o.duration_s * 1e6)
					   : UINT64_MAX;
	bool quit = false;
	int data_ms = -1;
	while (!quit && !stop_sig) {
		uint64_t now = ml_now_us();
		if (now >= end || (ctl.eof && ml.o.duration_s <= 0))
			break;
		if (now >= next_house) {
			ml_gw_tick(&ml, now);
			next_house = now + ML_HOUSEKEEP_MS * 1000;
			if (ml.up_done_us && !ml.up_reported) {
				ml.up_reported = true;
				print_stats(&ml, "up");
			}
		}
		data_ms = ml_data_run(&ml, now);
		if ((r = loop_once(&ml, timeout_ms(&ml, data_ms, next_house), &ctl, &quit)) < 0) {
			fprintf(stderr, "mpload: epoll: %s\n", strerror(-r));
			break;
		}
	}
	ml.o.pps = 0;
	print_stats(&ml, "exit");
	shutdown_links(&ml, &ctl);
	ml_gw_free(&ml);
	close(ml.ep);
	ml.clk = ml_clock_free(ml.clk);
	return 0;
}
