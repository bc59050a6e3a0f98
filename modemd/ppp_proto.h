/* PPP protocol numbers, control packet codes and LCP option types, as the
 * RFCs number them (RFC 1661, 1570, 1990, 1334, 1994, 2153). One header so
 * every protocol module and test speaks the same names. */
#pragma once

/* Protocol field values (RFC 1661 §2; assigned numbers). */
#define PPP_PROTO_IP	 0x0021
#define PPP_PROTO_MP	 0x003d /* RFC 1990 */
#define PPP_PROTO_IPV6	 0x0057
#define PPP_PROTO_IPCP	 0x8021
#define PPP_PROTO_IPV6CP 0x8057
#define PPP_PROTO_CCP	 0x80fd
#define PPP_PROTO_LCP	 0xc021
#define PPP_PROTO_PAP	 0xc023
#define PPP_PROTO_LQR	 0xc025
#define PPP_PROTO_CHAP	 0xc223
#define PPP_PROTO_EAP	 0xc227

/* CHAP algorithm carried in the Authentication-Protocol option. */
#define PPP_CHAP_MD5 5

/* Control packet codes shared by LCP and the NCPs (1-7) and LCP only (0,
 * 8-13). */
#define PPP_CODE_VENDOR	   0 /* RFC 2153 */
#define PPP_CONF_REQ	   1
#define PPP_CONF_ACK	   2
#define PPP_CONF_NAK	   3
#define PPP_CONF_REJ	   4
#define PPP_TERM_REQ	   5
#define PPP_TERM_ACK	   6
#define PPP_CODE_REJ	   7
#define PPP_PROTO_REJ	   8
#define PPP_ECHO_REQ	   9
#define PPP_ECHO_REP	   10
#define PPP_DISCARD_REQ	   11
#define PPP_IDENTIFICATION 12 /* RFC 1570 */
#define PPP_TIME_REMAINING 13 /* RFC 1570 */

/* LCP configuration option types. */
#define LCP_OPT_MRU	1
#define LCP_OPT_ACCM	2
#define LCP_OPT_AUTH	3
#define LCP_OPT_QUALITY 4
#define LCP_OPT_MAGIC	5
#define LCP_OPT_PFC	7
#define LCP_OPT_ACFC	8
#define LCP_OPT_MRRU	17 /* RFC 1990 */
#define LCP_OPT_SSNHF	18 /* RFC 1990 */
#define LCP_OPT_ED	19 /* RFC 1990 */

#define PPP_DEFAULT_MRU 1500
#define PPP_HDR_LEN	4 /* code, id, length(2) */
