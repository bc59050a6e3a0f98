/* Minimal pcap writer (see pcap.h). */
#include "pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PCAP_MAGIC   0xa1b2c3d4u /* microsecond timestamps, our byte order */
#define PCAP_SNAPLEN 65535u

struct pcap_writer {
	FILE *f;
	int linktype;
};

/* pcap headers are in the writer's byte order; the magic tells readers which. */
struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
	uint32_t sec, usec, incl_len, orig_len;
};

struct pcap_writer *pcap_open(const char *path, int linktype)
{
	struct pcap_writer *pw = calloc(1, sizeof(*pw));
	if (!pw)
		return NULL;
	pw->linktype = linktype;
	pw->f = fopen(path, "we");
	if (!pw->f)
		goto fail;
	struct pcap_file_hdr h = {
	    .magic = PCAP_MAGIC,
	    .major = 2,
	    .minor = 4,
	    .snaplen = PCAP_SNAPLEN,
	    .linktype = (uint32_t)linktype,
	};
	if (fwrite(&h, sizeof(h), 1, pw->f) != 1 || fflush(pw->f) != 0)
		goto fail;
	return pw;
fail:;
	int e = errno;
	pcap_close(pw);
	errno = e;
	return NULL;
}

int pcap_write(struct pcap_writer *pw, bool sent, const uint8_t *frame, size_t len)
{
	struct timespec ts;
	uint8_t dir = sent ? 1 : 0;
	size_t extra = pw->linktype == PCAP_LINKTYPE_PPP_WITH_DIR ? 1 : 0;

	if (len + extra > PCAP_SNAPLEN)
		return -EMSGSIZE;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct pcap_rec_hdr r = {
	    .sec = (uint32_t)ts.tv_sec,
	    .usec = (uint32_t)(ts.tv_nsec / 1000),
	    .incl_len = (uint32_t)(len + extra),
	    .orig_len = (uint32_t)(len + extra),
	};
	if (fwrite(&r, sizeof(r), 1, pw->f) != 1 || (extra && fwrite(&dir, 1, 1, pw->f) != 1) ||
	    (len && fwrite(frame, len, 1, pw->f) != 1) || fflush(pw->f) != 0)
		return -EIO;
	return 0;
}

struct pcap_writer *pcap_close(struct pcap_writer *pw)
{
	if (!pw)
		return NULL;
	if (pw->f)
		fclose(pw->f);
	free(pw);
	return NULL;
}
