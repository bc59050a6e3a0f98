/* Async HDLC-like framing (RFC 1662 §4): 0x7E flags, 0x7D escapes under an
 * async control character map (ACCM), FCS-16. This is what pppd speaks on a
 * tty; the relay turns it into one PPP frame per UDP datagram and back. The
 * frame handed out or taken in is everything between the flags without the
 * FCS: address/control (FF 03) and protocol are left exactly as they were. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HDLC_FLAG     0x7e
#define HDLC_ESC      0x7d
#define HDLC_TRANS    0x20
#define HDLC_FCS_INIT 0xffff
#define HDLC_FCS_GOOD 0xf0b8 /* residue over frame + FCS */
#define HDLC_ACCM_ALL 0xffffffffu
/* Largest frame (without FCS) accepted or sent: an MRU/MRRU of 4096 plus
 * address, control and protocol with room to spare. */
#define HDLC_MAX_FRAME 4104
/* Worst case encoded size of an n-byte frame: every byte and both FCS bytes
 * escaped, plus two flags. */
#define HDLC_ENCODED_MAX(n) (2 * ((n) + 2) + 2)

/* Counters a tester reads to see what was dropped and why. */
struct hdlc_stats {
	uint64_t frames;    /* good frames delivered */
	uint64_t bad_fcs;   /* FCS check failed */
	uint64_t too_short; /* fewer than 2 bytes of frame + FCS (RFC 1662: < 4) */
	uint64_t too_long;  /* more than HDLC_MAX_FRAME + 2 before a flag */
	uint64_t aborts;    /* 0x7D 0x7E */
};

struct hdlc_decoder {
	uint8_t buf[HDLC_MAX_FRAME + 2]; /* frame + FCS being assembled */
	size_t len;
	bool escape;  /* last byte was 0x7D */
	bool discard; /* oversized: toss bytes until the next flag */
	struct hdlc_stats stats;
};

/* Called once per good frame; frame is valid only during the call. */
typedef void (*hdlc_frame_cb)(const uint8_t *frame, size_t len, void *ctx);

/* Update an FCS-16 (RFC 1662 §C.2, reflected 0x8408) with n bytes. */
uint16_t hdlc_fcs16(uint16_t fcs, const uint8_t *p, size_t n);

void hdlc_decoder_init(struct hdlc_decoder *d);
/* Feed any number of received bytes (a frame may span calls; several frames
 * may be in one call). Any escaping is accepted and unescaped control
 * characters are kept (receive ACCM 0), so a peer that negotiated a smaller
 * ACCM is understood too. Frames without an opening flag, back-to-back flags,
 * aborts and garbage between frames are tolerated; bad frames are counted in
 * d->stats and dropped. */
void hdlc_decode(struct hdlc_decoder *d, const uint8_t *in, size_t n, hdlc_frame_cb cb, void *ctx);

/* Encode one frame: flag, frame and FCS with 0x7D, 0x7E and every control
 * character whose bit is set in accm escaped, flag. Returns the encoded
 * length, or -EMSGSIZE if len > HDLC_MAX_FRAME, -ENOSPC if cap is too small
 * (HDLC_ENCODED_MAX(len) always suffices). */
ssize_t hdlc_encode(const uint8_t *frame, size_t len, uint32_t accm, uint8_t *out, size_t cap);
