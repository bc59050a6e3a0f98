/* Minimal pcap (libpcap 2.4) writer for the relay's frames: no FCS, no
 * flags, FF 03 as on the wire, so tshark decodes LCP/CHAP/IPCP/MP directly. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAP_LINKTYPE_PPP	   9
#define PCAP_LINKTYPE_PPP_WITH_DIR 204 /* one direction byte before the frame */

struct pcap_writer;

/* Create (truncate) path. Returns NULL with errno set on failure. */
struct pcap_writer *pcap_open(const char *path, int linktype);
/* Append one frame stamped with wall-clock time. sent: the frame left the
 * pppd side (recorded as "sent by this host" under PPP_WITH_DIR). Each
 * record is flushed so a capture can be read while the relay runs. */
int pcap_write(struct pcap_writer *pw, bool sent, const uint8_t *frame, size_t len);
/* NULL-safe; returns NULL. */
struct pcap_writer *pcap_close(struct pcap_writer *pw);
