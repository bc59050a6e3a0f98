/* TUN device: open /dev/net/tun and attach with TUNSETIFF. */
#include "tun.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tun_open(const char *name, char *ifname_out, int *err)
{
	int r;
	struct ifreq ifr = {0};
	if (name && strlcpy_checked(ifr.ifr_name, name, sizeof(ifr.ifr_name)) < 0) {
		r = log_errno(-EINVAL, "tun: interface name too long: %s", name);
		goto fail;
	}
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		log_err("tun: cannot open /dev/net/tun: %s", strerror(-r));
		goto fail;
	}
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		log_err("tun: cannot create %s: %s", name && *name ? name : "a TUN device",
			strerror(-r));
		close(fd);
		goto fail;
	}
	if (ifname_out)
		strlcpy_checked(ifname_out, ifr.ifr_name, IF_NAMESIZE);
	log_debug("tun: %s created", ifr.ifr_name);
	return fd;
fail:
	if (err)
		*err = r;
	return r;
}

ssize_t tun_read(int fd, void *buf, size_t size)
{
	ssize_t n = read(fd, buf, size);
	return n < 0 ? -errno : n;
}

int tun_write(int fd, const void *pkt, size_t len)
{
	ssize_t n = write(fd, pkt, len);
	if (n < 0)
		return -errno;
	/* A TUN write takes the whole packet or fails. */
	return (size_t)n == len ? 0 : -EIO;
}
