/* Fuzz the async HDLC decoder and the encoder round trip. Byte 0 picks the
 * read size (frames split across reads) and byte 1 the ACCM used to
 * re-encode each decoded frame; the rest is what pppd "wrote" on the tty.
 * Every frame decoded must re-encode and decode back to itself. */
#include "hdlc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
	uint32_t accm;
	struct hdlc_decoder *check;
	uint8_t *enc;
};

static void expect_same(const uint8_t *frame, size_t len, void *arg)
{
	const uint8_t *want = arg;
	if (memcmp(frame, want, len) != 0)
		abort();
}

static void on_frame(const uint8_t *frame, size_t len, void *arg)
{
	struct ctx *c = arg;
	ssize_t n;
	uint64_t before;

	if (len > HDLC_MAX_FRAME)
		abort();
	n = hdlc_encode(frame, len, c->accm, c->enc, HDLC_ENCODED_MAX(HDLC_MAX_FRAME));
	if (n < 0)
		abort();
	before = c->check->stats.frames;
	hdlc_decode(c->check, c->enc, (size_t)n, expect_same, (void *)frame);
	if (c->check->stats.frames != before + 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t accms[] = {HDLC_ACCM_ALL, 0, 0x000a0000, 0x80000001};
	struct hdlc_decoder *d, *check;
	struct ctx c;
	size_t chunk;

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] + 1;
	d = malloc(sizeof(*d));
	check = malloc(sizeof(*check));
	c.enc = malloc(HDLC_ENCODED_MAX(HDLC_MAX_FRAME));
	if (!d || !check || !c.enc)
		goto out;
	c.accm = accms[data[1] % 4];
	c.check = check;
	hdlc_decoder_init(d);
	hdlc_decoder_init(check);
	data += 2;
	size -= 2;
	while (size) {
		size_t n = size < chunk ? size : chunk;
		hdlc_decode(d, data, n, on_frame, &c);
		data += n;
		size -= n;
	}
out:
	free(d);
	free(check);
	free(c.enc);
	return 0;
}
