/* PPP frame header on datagrams: both address/control forms, both protocol
 * field lengths on input; ACFC/PFC on output, never on LCP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ppp_frame.h"
#include "ppp_proto.h"

#include <errno.h>
#include <string.h>

static void check_decode(const uint8_t *in, size_t n, bool ac, bool comp, uint16_t proto,
			 size_t payload_off)
{
	struct ppp_frame f;

	assert_int_equal(ppp_frame_decode(in, n, &f), 0);
	assert_int_equal(f.has_addr_ctrl, ac);
	assert_int_equal(f.proto_compressed, comp);
	assert_int_equal(f.protocol, proto);
	assert_int_equal(f.payload.len, n - payload_off);
	assert_ptr_equal(f.payload.p, in + payload_off);
}

static void test_decode_forms(void **state)
{
	static const uint8_t lcp[] = {0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04};
	static const uint8_t lcp_noac[] = {0xc0, 0x21, 0x09, 0x01, 0x00, 0x08};
	static const uint8_t ip_full[] = {0xff, 0x03, 0x00, 0x21, 0x45};
	static const uint8_t ip_comp[] = {0x21, 0x45, 0x00};
	static const uint8_t ip_ac_comp[] = {0xff, 0x03, 0x21, 0x45};
	static const uint8_t mp_comp[] = {0x3d, 0xc0, 0x00, 0x00, 0x01};
	static const uint8_t ipcp_noac[] = {0x80, 0x21, 0x01};
	static const uint8_t empty_info[] = {0xff, 0x03, 0x00, 0x57};

	check_decode(lcp, sizeof(lcp), true, false, PPP_PROTO_LCP, 4);
	check_decode(lcp_noac, sizeof(lcp_noac), false, false, PPP_PROTO_LCP, 2);
	check_decode(ip_full, sizeof(ip_full), true, false, PPP_PROTO_IP, 4);
	check_decode(ip_comp, sizeof(ip_comp), false, true, PPP_PROTO_IP, 1);
	check_decode(ip_ac_comp, sizeof(ip_ac_comp), true, true, PPP_PROTO_IP, 3);
	check_decode(mp_comp, sizeof(mp_comp), false, true, PPP_PROTO_MP, 1);
	check_decode(ipcp_noac, sizeof(ipcp_noac), false, false, PPP_PROTO_IPCP, 2);
	check_decode(empty_info, sizeof(empty_info), true, false, PPP_PROTO_IPV6, 4);
}

static void test_decode_malformed(void **state)
{
	struct ppp_frame f;
	static const uint8_t only_ac[] = {0xff, 0x03};
	static const uint8_t even_low[] = {0xff, 0x03, 0xc0, 0x20, 0x01};
	static const uint8_t even_one[] = {0x00};
	static const uint8_t odd_high_then_even[] = {0x02, 0x02};

	assert_int_equal(ppp_frame_decode(NULL, 0, &f), -EBADMSG);
	assert_int_equal(ppp_frame_decode(only_ac, sizeof(only_ac), &f), -EBADMSG);
	assert_int_equal(ppp_frame_decode(even_low, sizeof(even_low), &f), -EBADMSG);
	assert_int_equal(ppp_frame_decode(even_one, sizeof(even_one), &f), -EBADMSG);
	assert_int_equal(ppp_frame_decode(odd_high_then_even, 2, &f), -EBADMSG);
	/* FF not followed by 03 is neither an address field nor a protocol. */
	static const uint8_t ff[] = {0xff, 0x21};
	static const uint8_t ff03ff[] = {0xff, 0x03, 0xff, 0x03};
	assert_int_equal(ppp_frame_decode(ff, sizeof(ff), &f), -EBADMSG);
	assert_int_equal(ppp_frame_decode(ff03ff, sizeof(ff03ff), &f), -EBADMSG);
}

static void check_encode(uint16_t proto, bool acfc, bool pfc, const uint8_t *want, size_t n)
{
	uint8_t out[16];
	const uint8_t info[] = {0xaa, 0xbb};
	int len = ppp_frame_encode(out, sizeof(out), proto, acfc, pfc, info, sizeof(info));

	assert_int_equal(len, (int)(n + sizeof(info)));
	assert_memory_equal(out, want, n);
	assert_memory_equal(out + n, info, sizeof(info));
}

static void test_encode(void **state)
{
	static const uint8_t lcp[] = {0xff, 0x03, 0xc0, 0x21};
	static const uint8_t ip_none[] = {0xff, 0x03, 0x00, 0x21};
	static const uint8_t ip_acfc[] = {0x00, 0x21};
	static const uint8_t ip_pfc[] = {0xff, 0x03, 0x21};
	static const uint8_t ip_both[] = {0x21};
	static const uint8_t ipcp_both[] = {0x80, 0x21};
	static const uint8_t mp_both[] = {0x3d};

	/* LCP keeps FF 03 and two protocol bytes whatever was negotiated. */
	check_encode(PPP_PROTO_LCP, true, true, lcp, sizeof(lcp));
	check_encode(PPP_PROTO_LCP, false, false, lcp, sizeof(lcp));
	check_encode(PPP_PROTO_IP, false, false, ip_none, sizeof(ip_none));
	check_encode(PPP_PROTO_IP, true, false, ip_acfc, sizeof(ip_acfc));
	check_encode(PPP_PROTO_IP, false, true, ip_pfc, sizeof(ip_pfc));
	check_encode(PPP_PROTO_IP, true, true, ip_both, sizeof(ip_both));
	/* Protocols above 0xff never compress. */
	check_encode(PPP_PROTO_IPCP, true, true, ipcp_both, sizeof(ipcp_both));
	check_encode(PPP_PROTO_MP, true, true, mp_both, sizeof(mp_both));
	/* 0x00ff keeps two bytes: one would be mistaken for FF 03. */
	static const uint8_t ff_both[] = {0x00, 0xff};
	check_encode(0x00ff, true, true, ff_both, sizeof(ff_both));
}

static void test_encode_overflow(void **state)
{
	uint8_t out[5];
	const uint8_t info[2] = {0};

	assert_int_equal(ppp_frame_encode(out, sizeof(out), PPP_PROTO_IP, false, false, info, 2),
			 -ENOBUFS);
	assert_int_equal(ppp_frame_encode(out, sizeof(out), PPP_PROTO_IP, false, true, info, 2), 5);
}

static void test_round_trip(void **state)
{
	static const uint16_t protos[] = {PPP_PROTO_IP,	  PPP_PROTO_IPV6, PPP_PROTO_MP,
					  PPP_PROTO_IPCP, PPP_PROTO_LCP,  PPP_PROTO_CHAP};
	uint8_t out[32], info[7] = {1, 2, 3, 4, 5, 6, 7};

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		for (int m = 0; m < 4; m++) {
			bool acfc = m & 1, pfc = m & 2;
			struct ppp_frame f;
			int n = ppp_frame_encode(out, sizeof(out), protos[i], acfc, pfc, info,
						 sizeof(info));
			assert_true(n > 0);
			assert_int_equal(ppp_frame_decode(out, (size_t)n, &f), 0);
			assert_int_equal(f.protocol, protos[i]);
			assert_int_equal(f.has_addr_ctrl, !acfc || protos[i] == PPP_PROTO_LCP);
			assert_int_equal(f.payload.len, sizeof(info));
			assert_memory_equal(f.payload.p, info, sizeof(info));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_forms), cmocka_unit_test(test_decode_malformed),
	    cmocka_unit_test(test_encode),	 cmocka_unit_test(test_encode_overflow),
	    cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
