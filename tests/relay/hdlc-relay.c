/* hdlc-relay: lets a real pppd, which speaks async HDLC (RFC 1662) on a tty,
 * be a peer of a one-PPP-frame-per-UDP-datagram engine. Each good HDLC frame
 * read from the tty becomes one datagram (flags, escapes and FCS removed,
 * FF 03 kept as sent); each datagram becomes one HDLC frame on the tty.
 *
 *   hdlc-relay --pty-link PATH | --tty PATH --udp-local ADDR:PORT
 *              --udp-remote ADDR:PORT [--bind-dev IFNAME] [--pcap FILE]
 *              [--pcap-linktype 9|204] [--accm-after-lcp]
 *
 * With --pty-link it makes a pty pair, sets the slave raw before anyone else
 * opens it (a pty that echoes makes pppd see its own LCP requests), keeps its
 * own slave fd open (else reads on the master fail with EIO until pppd opens
 * the slave) and symlinks the slave at PATH. "READY" on stdout means PATH is
 * there. SIGTERM/SIGINT: exit 0 and print counters on stderr. */
#include "hdlc.h"
#include "lcp_snoop.h"
#include "pcap.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define TXQ_CAP	  65536 /* bytes of encoded frames waiting for the tty */
#define READ_SIZE 65536

struct opts {
	const char *pty_link;
	const char *tty;
	const char *udp_local;
	const char *udp_remote;
	const char *bind_dev;
	const char *pcap;
	int pcap_linktype;
	bool accm_after_lcp;
};

struct relay_stats {
	uint64_t udp_sent;     /* frames from the tty sent as datagrams */
	uint64_t udp_send_err; /* send failed (no listener, buffer full) */
	uint64_t udp_rx;       /* datagrams received */
	uint64_t udp_bad;      /* empty or larger than HDLC_MAX_FRAME */
	uint64_t tty_frames;   /* frames queued to the tty */
	uint64_t tty_drops;    /* dropped: tty queue full */
};

struct relay {
	int tty_fd;   /* pty master, or the tty given with --tty */
	int slave_fd; /* --pty-link: our own hold on the slave */
	int udp_fd;
	int sig_fd;
	const char *link; /* symlink to remove on exit */
	struct hdlc_decoder dec;
	struct lcp_snoop snoop;
	bool snoop_on;
	uint32_t tx_accm;
	struct pcap_writer *pcap;
	uint8_t txq[TXQ_CAP];
	size_t txq_len;
	struct relay_stats st;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hdlc-relay (--pty-link PATH | --tty PATH) --udp-local ADDR:PORT\n"
		   "                  --udp-remote ADDR:PORT [--bind-dev IFNAME] [--pcap FILE]\n"
		   "                  [--pcap-linktype 9|204] [--accm-after-lcp]\n"
		   "ADDR is IPv4 or [IPv6]. Prints READY when the tty is ready for pppd.\n");
}

/* "1.2.3.4:5" or "[::1]:5" -> sockaddr. */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	size_t hlen;

	if (!colon || colon == s)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']')
			return -EINVAL;
		s++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';

	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_DGRAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int udp_open(const struct opts *o)
{
	struct sockaddr_storage local, remote;
	socklen_t llen, rlen;
	int fd, r;

	if (parse_addr(o->udp_local, &local, &llen) < 0) {
		fprintf(stderr, "hdlc-relay: bad --udp-local '%s'\n", o->udp_local);
		return -EINVAL;
	}
	if (parse_addr(o->udp_remote, &remote, &rlen) < 0 || remote.ss_family != local.ss_family) {
		fprintf(stderr, "hdlc-relay: bad --udp-remote '%s'\n", o->udp_remote);
		return -EINVAL;
	}
	fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (o->bind_dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->bind_dev,
				      (socklen_t)strlen(o->bind_dev)) < 0)
		goto fail;
	/* Connected: only the peer's datagrams come in. */
	if (bind(fd, (struct sockaddr *)&local, llen) < 0 ||
	    connect(fd, (struct sockaddr *)&remote, rlen) < 0)
		goto fail;
	return fd;
fail:
	r = -errno;
	fprintf(stderr, "hdlc-relay: udp socket: %s\n", strerror(-r));
	close(fd);
	return r;
}

static int make_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return -errno;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return -errno;
	return 0;
}

/* Replace PATH atomically with a symlink to target. */
static int symlink_replace(const char *target, const char *path)
{
	char tmp[4096];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	if (symlink(target, tmp) < 0)
		return -errno;
	if (rename(tmp, path) < 0) {
		int r = -errno;
		unlink(tmp);
		return r;
	}
	return 0;
}

static int pty_open(struct relay *rl, const char *link)
{
	char name[128];
	int r;

	rl->tty_fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (rl->tty_fd < 0)
		return -errno;
	if (grantpt(rl->tty_fd) < 0 || unlockpt(rl->tty_fd) < 0)
		return -errno;
	r = ptsname_r(rl->tty_fd, name, sizeof(name));
	if (r)
		return -r;
	rl->slave_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (rl->slave_fd < 0)
		return -errno;
	r = make_raw(rl->slave_fd);
	if (r < 0)
		return r;
	r = symlink_replace(name, link);
	if (r < 0)
		return r;
	rl->link = link;
	return 0;
}

static int tty_open(struct relay *rl, const char *path)
{
	rl->tty_fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (rl->tty_fd < 0)
		return -errno;
	return make_raw(rl->tty_fd);
}

/* Tests look for this line to know the negotiated map was applied. */
static void set_tx_accm(struct relay *rl)
{
	rl->tx_accm = lcp_snoop_tx_accm(&rl->snoop);
	fprintf(stderr, "hdlc-relay: escaping towards the tty with ACCM 0x%08x\n", rl->tx_accm);
}

/* One good frame from the tty: one datagram. */
static void on_tty_frame(const uint8_t *frame, size_t len, void *ctx)
{
	struct relay *rl = ctx;

	if (rl->snoop_on && lcp_snoop_frame(&rl->snoop, LCP_SNOOP_FROM_TTY, frame, len))
		set_tx_accm(rl);
	if (rl->pcap)
		pcap_write(rl->pcap, true, frame, len);
	if (send(rl->udp_fd, frame, len, 0) == (ssize_t)len)
		rl->st.udp_sent++;
	else
		rl->st.udp_send_err++;
}

static int tty_read(struct relay *rl)
{
	uint8_t buf[READ_SIZE];
	ssize_t n = read(rl->tty_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		fprintf(stderr, "hdlc-relay: tty read: %s\n", strerror(errno));
		return -errno;
	}
	if (n == 0) {
		fprintf(stderr, "hdlc-relay: tty hung up\n");
		return -EPIPE;
	}
	hdlc_decode(&rl->dec, buf, (size_t)n, on_tty_frame, rl);
	return 0;
}

static int tty_flush(struct relay *rl)
{
	ssize_t n = write(rl->tty_fd, rl->txq, rl->txq_len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		fprintf(stderr, "hdlc-relay: tty write: %s\n", strerror(errno));
		return -errno;
	}
	memmove(rl->txq, rl->txq + n, rl->txq_len - (size_t)n);
	rl->txq_len -= (size_t)n;
	return 0;
}

static int udp_read(struct relay *rl)
{
	uint8_t buf[READ_SIZE];
	uint8_t enc[HDLC_ENCODED_MAX(HDLC_MAX_FRAME)];
	ssize_t n = recv(rl->udp_fd, buf, sizeof(buf), MSG_TRUNC);

	if (n < 0) /* EAGAIN, or ECONNREFUSED from an earlier send */
		return 0;
	rl->st.udp_rx++;
	if (n == 0 || n > HDLC_MAX_FRAME) {
		rl->st.udp_bad++;
		return 0;
	}
	if (rl->pcap)
		pcap_write(rl->pcap, false, buf, (size_t)n);
	ssize_t elen = hdlc_encode(buf, (size_t)n, rl->tx_accm, enc, sizeof(enc));
	/* Snoop after encoding: an ACCM change applies to later frames only. */
	if (rl->snoop_on && lcp_snoop_frame(&rl->snoop, LCP_SNOOP_TO_TTY, buf, (size_t)n))
		set_tx_accm(rl);
	if (elen < 0 || (size_t)elen > sizeof(rl->txq) - rl->txq_len) {
		/* A whole frame or nothing: a partial one would corrupt the stream. */
		rl->st.tty_drops++;
		return 0;
	}
	memcpy(rl->txq + rl->txq_len, enc, (size_t)elen);
	rl->txq_len += (size_t)elen;
	rl->st.tty_frames++;
	return tty_flush(rl);
}

static int run(struct relay *rl)
{
	for (;;) {
		struct pollfd p[3] = {
		    {.fd = rl->tty_fd, .events = POLLIN | (rl->txq_len ? POLLOUT : 0)},
		    {.fd = rl->udp_fd, .events = POLLIN},
		    {.fd = rl->sig_fd, .events = POLLIN},
		};
		int r = 0;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[2].revents)
			return 0;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
			r = tty_read(rl);
		if (r == 0 && (p[0].revents & POLLOUT))
			r = tty_flush(rl);
		if (r == 0 && p[1].revents)
			r = udp_read(rl);
		if (r < 0)
			return r;
	}
}

static void print_stats(const struct relay *rl)
{
	const struct hdlc_stats *d = &rl->dec.stats;

	fprintf(stderr,
		"hdlc-relay: tty->udp frames=%llu bad_fcs=%llu too_short=%llu too_long=%llu "
		"aborts=%llu send_errors=%llu; udp->tty datagrams=%llu bad=%llu frames=%llu "
		"drops=%llu; tx_accm=0x%08x\n",
		(unsigned long long)rl->st.udp_sent, (unsigned long long)d->bad_fcs,
		(unsigned long long)d->too_short, (unsigned long long)d->too_long,
		(unsigned long long)d->aborts, (unsigned long long)rl->st.udp_send_err,
		(unsigned long long)rl->st.udp_rx, (unsigned long long)rl->st.udp_bad,
		(unsigned long long)rl->st.tty_frames, (unsigned long long)rl->st.tty_drops,
		rl->tx_accm);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
	    {"pty-link", required_argument, NULL, 'p'},
	    {"tty", required_argument, NULL, 't'},
	    {"udp-local", required_argument, NULL, 'l'},
	    {"udp-remote", required_argument, NULL, 'r'},
	    {"bind-dev", required_argument, NULL, 'd'},
	    {"pcap", required_argument, NULL, 'w'},
	    {"pcap-linktype", required_argument, NULL, 'k'},
	    {"accm-after-lcp", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	*o = (struct opts){.pcap_linktype = PCAP_LINKTYPE_PPP_WITH_DIR};
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->pty_link = optarg;
			break;
		case 't':
			o->tty = optarg;
			break;
		case 'l':
			o->udp_local = optarg;
			break;
		case 'r':
			o->udp_remote = optarg;
			break;
		case 'd':
			o->bind_dev = optarg;
			break;
		case 'w':
			o->pcap = optarg;
			break;
		case 'k':
			o->pcap_linktype = atoi(optarg);
			break;
		case 'a':
			o->accm_after_lcp = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || !o->pty_link == !o->tty || !o->udp_local || !o->udp_remote ||
	    (o->pcap_linktype != PCAP_LINKTYPE_PPP &&
	     o->pcap_linktype != PCAP_LINKTYPE_PPP_WITH_DIR) ||
	    (o->bind_dev && strlen(o->bind_dev) >= IFNAMSIZ))
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct relay *rl;
	sigset_t mask;
	int r;

	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	/* Large (queue + decoder): on the heap, not the stack. */
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return 1;
	rl->tty_fd = rl->slave_fd = rl->udp_fd = rl->sig_fd = -1;
	rl->tx_accm = HDLC_ACCM_ALL;
	rl->snoop_on = o.accm_after_lcp;
	hdlc_decoder_init(&rl->dec);
	lcp_snoop_init(&rl->snoop);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	rl->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (rl->sig_fd < 0) {
		r = -errno;
		goto out;
	}
	r = udp_open(&o);
	if (r < 0)
		goto out;
	rl->udp_fd = r;
	if (o.pcap) {
		rl->pcap = pcap_open(o.pcap, o.pcap_linktype);
		if (!rl->pcap) {
			r = -errno;
			fprintf(stderr, "hdlc-relay: %s: %s\n", o.pcap, strerror(-r));
			goto out;
		}
	}
	r = o.pty_link ? pty_open(rl, o.pty_link) : tty_open(rl, o.tty);
	if (r < 0) {
		fprintf(stderr, "hdlc-relay: %s: %s\n", o.pty_link ? o.pty_link : o.tty,
			strerror(-r));
		goto out;
	}
	printf("READY\n");
	fflush(stdout);
	r = run(rl);
	print_stats(rl);
out:
	if (rl->link)
		unlink(rl->link);
	rl->pcap = pcap_close(rl->pcap);
	const int fds[] = {rl->tty_fd, rl->slave_fd, rl->udp_fd, rl->sig_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(rl);
	return r < 0 ? 1 : 0;
}
