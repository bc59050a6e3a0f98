/* linkem: user-space link emulator between network namespaces.
 *
 *   linkem -c PROFILE [-s CONTROL_SOCKET] [-r REPORT_JSON] [-i SECS] [-R PRIO] [-n]
 *
 * For each link of the profile it bridges interface a <-> b at layer 2 with
 * AF_PACKET sockets, each direction through lk_queue.c (loss, queue,
 * trace/rate capacity, delay, jitter) and the link's outage schedule. One
 * thread, epoll, one absolute timerfd for the earliest pending event.
 * docs/linkem.md has the profile reference and the control protocol. */
#include "lk.h"
#include "lk_ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TAG_TIMER      1
#define TAG_SIGNAL     2
#define TAG_INTERVAL   3
#define TAG_CTL_LISTEN 4
#define TAG_CTL_CLIENT 0x1000
#define TAG_SOCK       0x2000 /* + link * 2 + side (0 = a, 1 = b) */
#define RX_BUDGET      64     /* frames per socket per wakeup, for fairness */
#define SOCK_BUF       (4 << 20)

struct link {
	const struct lk_link_conf *conf;
	int fd[2]; /* bound to a, b */
	struct lk_dir dir[2];
	struct lk_sched sched;
	uint64_t last_bytes[2];
};

struct em {
	struct lk_config cfg;
	struct link links[LK_MAX_LINKS];
	size_t n;
	int epfd, tfd, sfd, ifd;
	uint64_t armed, epoch, last_interval;
	struct lk_ctl ctl;
	bool have_ctl, quit;
	uint8_t scratch[LK_FRAME_MAX];
	char out[65536];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * LK_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static int open_if(const char *ifname, int *out)
{
	struct packet_mreq mr = {.mr_type = PACKET_MR_PROMISC};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	int one = 1, buf = SOCK_BUF, fd, r;

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		return -errno;
	/* Protocol 0 until bound, so no frame of another interface sneaks in. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Our own sends would come back as PACKET_OUTGOING; not even queue them. */
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	mr.mr_ifindex = sll.sll_ifindex;
	(void)setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
	*out = fd;
	return 0;
fail:
	r = -errno;
	close(fd);
	return r;
}

static void arm(struct em *em, uint64_t when)
{
	struct itimerspec its = {0};

	if (when == em->armed)
		return;
	em->armed = when;
	if (when != LK_NEVER) {
		if (!when)
			when = 1; /* 0 would disarm */
		its.it_value.tv_sec = (time_t)(when / LK_NS_PER_S);
		its.it_value.tv_nsec = (long)(when % LK_NS_PER_S);
	}
	timerfd_settime(em->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Let every direction catch up to now, send what is due, re-arm the timer. */
static void run(struct em *em)
{
	uint64_t next = LK_NEVER, now = now_ns();

	for (size_t i = 0; i < em->n; i++) {
		struct link *l = &em->links[i];
		bool outage = lk_sched_active(&l->sched, now);
		uint64_t t;

		for (int d = 0; d < 2; d++) {
			struct lk_dir *dir = &l->dir[d];
			struct lk_pkt *p;

			lk_dir_advance(dir, now, outage);
			while ((p = lk_dir_due(dir, now))) {
				/* Up (a -> b) leaves on b, down on a. */
				ssize_t w =
				    send(l->fd[d == LK_UP ? 1 : 0], p->data, p->len, MSG_DONTWAIT);

				lk_dir_done(dir, p, now_ns(), w == (ssize_t)p->len);
			}
			t = lk_dir_next_event(dir);
			if (t < next)
				next = t;
		}
		t = lk_sched_next_edge(&l->sched, now);
		if (t < next)
			next = t;
	}
	arm(em, next);
}

static void rx(struct em *em, struct link *l, int side)
{
	struct lk_dir *d = &l->dir[side == 0 ? LK_UP : LK_DOWN];

	for (int budget = RX_BUDGET; budget; budget--) {
		struct lk_pkt *p = lk_dir_slot(d);
		struct sockaddr_ll sll;
		struct iovec iov = {p ? p->data : em->scratch, LK_FRAME_MAX};
		struct msghdr mh = {
		    .msg_name = &sll, .msg_namelen = sizeof(sll), .msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = recvmsg(l->fd[side], &mh, MSG_TRUNC);
		uint64_t now = now_ns();

		if (n < 0) {
			if (p)
				lk_dir_put(d, p);
			return;
		}
		if (sll.sll_pkttype == PACKET_OUTGOING) {
			if (p)
				lk_dir_put(d, p);
			continue;
		}
		if (!p || n > LK_FRAME_MAX) {
			/* Pool exhausted (the delay line holds too much) or a frame
			 * larger than a slot (offloads left on?). */
			d->st.rx_pkts++;
			d->st.dropped_pool++;
			if (p)
				lk_dir_put(d, p);
			continue;
		}
		lk_dir_ingress(d, p, (uint32_t)n, now, lk_sched_active(&l->sched, now));
	}
}

/* ---- stats JSON ---- */

struct sbuf {
	char *p;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len = n < 0 ? b->cap : b->len + (size_t)n;
	if (b->len > b->cap)
		b->len = b->cap;
}

static void dir_json(struct sbuf *b, const struct link *l, const struct lk_dir *d, uint64_t now)
{
	const struct lk_stats *s = &d->st;
	static const char *const caps[] = {"unlimited", "rate", "trace"};

	put(b,
	    "{\"capacity\":\"%s\",\"delivered_pkts\":%llu,\"delivered_bytes\":%llu,"
	    "\"capacity_bytes\":%llu,\"dropped_loss\":%llu,\"dropped_queue\":%llu,"
	    "\"dropped_outage\":%llu,\"dropped_pool\":%llu,\"dropped_tx\":%llu,"
	    "\"rx_pkts\":%llu,\"rx_bytes\":%llu,\"queued_pkts\":%u,\"queue_max\":%llu,"
	    "\"mean_delay_ms\":%.3f,\"max_delay_ms\":%.3f}",
	    caps[d->conf->cap], (unsigned long long)s->delivered_pkts,
	    (unsigned long long)s->delivered_bytes,
	    (unsigned long long)lk_dir_capacity(d, now, l->sched.o, l->sched.n),
	    (unsigned long long)s->dropped_loss, (unsigned long long)s->dropped_queue,
	    (unsigned long long)s->dropped_outage, (unsigned long long)s->dropped_pool,
	    (unsigned long long)s->dropped_tx, (unsigned long long)s->rx_pkts,
	    (unsigned long long)s->rx_bytes, d->q_len, (unsigned long long)s->queue_max,
	    s->delivered_pkts ? (double)s->delay_sum_ns / (double)s->delivered_pkts / 1e6 : 0.0,
	    (double)s->delay_max_ns / 1e6);
}

static size_t stats_json(struct em *em, char *out, size_t len)
{
	struct sbuf b = {out, 0, len - 2};
	uint64_t now = now_ns();

	put(&b, "{\"elapsed_s\":%.6f,\"links\":[", (double)(now - em->epoch) / 1e9);
	for (size_t i = 0; i < em->n; i++) {
		const struct link *l = &em->links[i];

		put(&b, "%s{\"name\":\"%s\",\"a\":\"%s\",\"b\":\"%s\",\"outage\":%s,\"up\":",
		    i ? "," : "", l->conf->name, l->conf->a, l->conf->b,
		    lk_sched_active(&l->sched, now) ? "true" : "false");
		dir_json(&b, l, &l->dir[LK_UP], now);
		put(&b, ",\"down\":");
		dir_json(&b, l, &l->dir[LK_DOWN], now);
		put(&b, "}");
	}
	put(&b, "]}");
	out[b.len++] = '\n';
	out[b.len] = '\0';
	return b.len;
}

static void reset(struct em *em)
{
	uint64_t now = now_ns();

	em->epoch = now;
	for (size_t i = 0; i < em->n; i++) {
		struct link *l = &em->links[i];

		lk_dir_reset(&l->dir[LK_UP], now);
		lk_dir_reset(&l->dir[LK_DOWN], now);
		lk_sched_reset(&l->sched, l->conf, now);
		l->last_bytes[0] = l->last_bytes[1] = 0;
	}
	em->last_interval = now;
}

static size_t reply(char *out, size_t len, const char *text, const char *unused)
{
	size_t n = strlen(text);

	(void)unused;
	if (n >= len)
		n = len - 1;
	memcpy(out, text, n);
	out[n] = '\0';
	return n;
}

static size_t command(void *arg, char *line, char *out, size_t len)
{
	struct em *em = arg;
	char *save = NULL, *cmd = strtok_r(line, " \t", &save);

	if (!cmd)
		return reply(out, len, "{\"error\":\"empty command\"}\n", "");
	if (!strcmp(cmd, "stats"))
		return stats_json(em, out, len);
	if (!strcmp(cmd, "reset")) {
		reset(em);
		run(em);
		return reply(out, len, "{\"ok\":true}\n", "");
	}
	if (!strcmp(cmd, "quit")) {
		em->quit = true;
		return reply(out, len, "{\"ok\":true}\n", "");
	}
	if (!strcmp(cmd, "outage")) {
		char *name = strtok_r(NULL, " \t", &save), *secs = strtok_r(NULL, " \t", &save);
		char *end = NULL;
		double s = secs ? strtod(secs, &end) : 0;

		if (!name || !secs || *end || !(s > 0 && s <= 1e6) || strtok_r(NULL, " \t", &save))
			return reply(out, len,
				     "{\"error\":\"usage: outage LINK SECONDS (0 < SECONDS <= "
				     "1e6)\"}\n",
				     "");
		for (size_t i = 0; i < em->n; i++) {
			struct link *l = &em->links[i];

			if (strcmp(l->conf->name, name))
				continue;
			if (lk_sched_add(&l->sched, now_ns(), (uint64_t)(s * (double)LK_NS_PER_S)))
				return reply(out, len,
					     "{\"error\":\"too many outages since reset\"}\n", "");
			run(em);
			return reply(out, len, "{\"ok\":true}\n", "");
		}
		return reply(out, len, "{\"error\":\"no such link\"}\n", "");
	}
	return reply(out, len,
		     "{\"error\":\"unknown command (stats, reset, outage LINK SECONDS, quit)\"}\n",
		     "");
}

static void interval_line(struct em *em)
{
	uint64_t now = now_ns();
	double secs = (double)(now - em->last_interval) / 1e9;
	struct sbuf b = {em->out, 0, sizeof(em->out) - 1};

	if (secs <= 0)
		return;
	put(&b, "linkem: %.1f s", (double)(now - em->epoch) / 1e9);
	for (size_t i = 0; i < em->n; i++) {
		struct link *l = &em->links[i];
		double mb[2];

		for (int d = 0; d < 2; d++) {
			mb[d] = (double)(l->dir[d].st.delivered_bytes - l->last_bytes[d]) * 8 /
				secs / 1e6;
			l->last_bytes[d] = l->dir[d].st.delivered_bytes;
		}
		put(&b, " | %s up %.2f down %.2f", l->conf->name, mb[0], mb[1]);
	}
	em->last_interval = now;
	fprintf(stderr, "%s Mbit/s\n", em->out);
}

static int write_report(struct em *em, const char *path)
{
	char tmp[4096];
	size_t n = stats_json(em, em->out, sizeof(em->out));
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f || fwrite(em->out, 1, n, f) != n || fclose(f) != 0 || rename(tmp, path) < 0) {
		fprintf(stderr, "linkem: %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int setup(struct em *em, const char *ctl_path, double interval)
{
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t ss;
	int r;

	em->epfd = epoll_create1(EPOLL_CLOEXEC);
	em->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	em->sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (em->epfd < 0 || em->tfd < 0 || em->sfd < 0)
		return -errno;
	ev.data.u64 = TAG_TIMER;
	epoll_ctl(em->epfd, EPOLL_CTL_ADD, em->tfd, &ev);
	ev.data.u64 = TAG_SIGNAL;
	epoll_ctl(em->epfd, EPOLL_CTL_ADD, em->sfd, &ev);
	if (interval > 0) {
		struct itimerspec its;

		its.it_value.tv_sec = (time_t)interval;
		its.it_value.tv_nsec = (long)((interval - (double)(time_t)interval) * 1e9);
		its.it_interval = its.it_value;
		em->ifd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (em->ifd < 0)
			return -errno;
		timerfd_settime(em->ifd, 0, &its, NULL);
		ev.data.u64 = TAG_INTERVAL;
		epoll_ctl(em->epfd, EPOLL_CTL_ADD, em->ifd, &ev);
	}
	em->n = em->cfg.n_links;
	for (size_t i = 0; i < em->n; i++) {
		struct link *l = &em->links[i];
		const char *ifs[2];

		l->conf = &em->cfg.links[i];
		ifs[0] = l->conf->a;
		ifs[1] = l->conf->b;
		for (int s = 0; s < 2; s++) {
			if ((r = open_if(ifs[s], &l->fd[s])) < 0) {
				fprintf(stderr, "linkem: link %s: interface %s: %s\n",
					l->conf->name, ifs[s], strerror(-r));
				return r;
			}
			ev.data.u64 = TAG_SOCK + i * 2 + (unsigned)s;
			epoll_ctl(em->epfd, EPOLL_CTL_ADD, l->fd[s], &ev);
		}
		for (int d = 0; d < 2; d++) {
			/* A distinct, reproducible random stream per direction. */
			r = lk_dir_init(&l->dir[d], &l->conf->dir[d],
					em->cfg.seed * 1000003ULL + i * 2 + (unsigned)d, now_ns());
			if (r < 0) {
				fprintf(stderr, "linkem: link %s: %s\n", l->conf->name,
					strerror(-r));
				return r;
			}
		}
	}
	if (ctl_path) {
		r = lk_ctl_open(&em->ctl, ctl_path, em->epfd, TAG_CTL_LISTEN, TAG_CTL_CLIENT,
				command, em, em->out, sizeof(em->out));
		if (r < 0) {
			fprintf(stderr, "linkem: control socket %s: %s\n", ctl_path, strerror(-r));
			return r;
		}
		em->have_ctl = true;
	}
	/* Timer wakeups as exact as the kernel allows: jitter is ours to add. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: linkem -c PROFILE [-s CONTROL_SOCKET] [-r REPORT_JSON] [-i SECS] [-R PRIO] "
		"[-n]\n"
		"  -c  profile (libconfig), see docs/linkem.md\n"
		"  -s  control socket (stats, reset, outage LINK SECONDS, quit)\n"
		"  -r  write the final stats JSON here on exit\n"
		"  -i  print per-link delivered Mbit/s to stderr every SECS\n"
		"  -R  run SCHED_FIFO at PRIO (1-99): steadier timing on a busy host\n"
		"  -n  check the profile (and traces) and exit\n");
}

int main(int argc, char **argv)
{
	static struct em em_static;
	struct em *em = &em_static;
	const char *conf = NULL, *ctl = NULL, *report = NULL;
	char err[1024], *end;
	double interval = 0;
	bool check = false;
	long prio = 0;
	int opt, r;

	while ((opt = getopt(argc, argv, "c:s:r:i:R:nh")) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 's':
			ctl = optarg;
			break;
		case 'r':
			report = optarg;
			break;
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || !(interval >= 0.01 && interval <= 3600)) {
				fprintf(stderr, "linkem: -i: seconds in [0.01, 3600]\n");
				return 2;
			}
			break;
		case 'R':
			prio = strtol(optarg, &end, 10);
			if (*end || prio < 1 || prio > 99) {
				fprintf(stderr, "linkem: -R: priority in [1, 99]\n");
				return 2;
			}
			break;
		case 'n':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!conf || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (lk_profile_load(&em->cfg, conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "linkem: %s\n", err);
		return 2;
	}
	if (check) {
		lk_profile_free(&em->cfg);
		return 0;
	}
	em->ifd = -1;
	em->armed = 0;
	if (setup(em, ctl, interval) < 0)
		return 1;
	if (prio) {
		struct sched_param sp = {.sched_priority = (int)prio};

		/* Event-driven, never spins: real-time priority only shortens
		 * the wait for a CPU when the host is busy. */
		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
			fprintf(stderr, "linkem: -R %ld: %s (continuing)\n", prio, strerror(errno));
	}
	reset(em);
	fprintf(stderr, "linkem: %zu link(s) up\n", em->n);
	r = 0;
	while (!em->quit) {
		struct epoll_event evs[32];
		int n = epoll_wait(em->epfd, evs, 32, -1);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "linkem: epoll: %s\n", strerror(errno));
			r = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64, junk;

			if (tag >= TAG_SOCK) {
				rx(em, &em->links[(tag - TAG_SOCK) / 2],
				   (int)((tag - TAG_SOCK) % 2));
			} else if (tag >= TAG_CTL_CLIENT) {
				lk_ctl_readable(&em->ctl, (unsigned)(tag - TAG_CTL_CLIENT));
			} else if (tag == TAG_CTL_LISTEN) {
				lk_ctl_accept(&em->ctl);
			} else if (tag == TAG_TIMER) {
				(void)!read(em->tfd, &junk, sizeof(junk));
				em->armed = 0;
			} else if (tag == TAG_INTERVAL) {
				(void)!read(em->ifd, &junk, sizeof(junk));
				interval_line(em);
			} else if (tag == TAG_SIGNAL) {
				struct signalfd_siginfo si;

				(void)!read(em->sfd, &si, sizeof(si));
				em->quit = true;
			}
		}
		run(em);
	}
	if (report && write_report(em, report) < 0)
		r = 1;
	if (em->have_ctl)
		lk_ctl_close(&em->ctl);
	for (size_t i = 0; i < em->n; i++)
		for (int d = 0; d < 2; d++)
			lk_dir_free(&em->links[i].dir[d]);
	lk_profile_free(&em->cfg);
	return r;
}
