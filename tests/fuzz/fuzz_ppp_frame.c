/* Fuzz the PPP frame header decoder; what decodes must re-encode to a frame
 * that decodes to the same protocol and payload. */
#include "ppp_frame.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppp_frame f, g;
	uint8_t out[PPP_FRAME_HDR_MAX + 2048];

	if (ppp_frame_decode(data, size, &f) < 0)
		return 0;
	if (f.payload.len > size || (f.payload.len && f.payload.p < data))
		__builtin_trap();
	if (f.payload.len > 2048 || !ppp_proto_valid(f.protocol))
		return 0;
	for (int m = 0; m < 4; m++) {
		int n = ppp_frame_encode(out, sizeof(out), f.protocol, m & 1, m & 2, f.payload.p,
					 f.payload.len);
		if (n < 0 || ppp_frame_decode(out, (size_t)n, &g) < 0)
			__builtin_trap();
		if (g.protocol != f.protocol || g.payload.len != f.payload.len ||
		    (g.payload.len && memcmp(g.payload.p, f.payload.p, g.payload.len)))
			__builtin_trap();
	}
	return 0;
}
