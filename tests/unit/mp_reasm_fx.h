/* Fixture shared by the MP reassembly tests: a capture of what is
 * delivered, a reassembler with a given reorder window, one-byte tagged
 * fragments, and the delivered packets as a string. Header-only: each test
 * file includes it once. */
#pragma once
#define MAXP 1400

struct cap {
	size_t n;
	uint16_t proto[MAXP];
	size_t len[MAXP];
	uint8_t data[MAXP][1600];
};

static inline void on_deliver(void *ctx, uint16_t proto, const uint8_t *d, size_t len)
{
	struct cap *c = ctx;

	assert_true(c->n < MAXP && len <= sizeof(c->data[0]));
	c->proto[c->n] = proto;
	c->len[c->n] = len;
	memcpy(c->data[c->n], d, len);
	c->n++;
}

static inline struct mp_reasm *mk_nack(struct cap *c, bool sseq, uint32_t reorder_min,
				       bool (*nack)(void *, uint32_t, uint32_t))
{
	struct mp_reasm_cfg cfg;

	mp_reasm_cfg_default(&cfg);
	cfg.short_seq = sseq;
	cfg.reorder_min = reorder_min;
	cfg.deliver = on_deliver;
	cfg.nack = nack;
	cfg.ctx = c;
	memset(c, 0, sizeof(*c));
	struct mp_reasm *r = mp_reasm_new(&cfg);
	assert_non_null(r);
	return r;
}

static inline struct mp_reasm *mk(struct cap *c, bool sseq, uint32_t reorder_min)
{
	return mk_nack(c, sseq, reorder_min, NULL);
}

/* One fragment carrying one tag byte; a B fragment also carries protocol
 * 0x0021, so a delivered packet's bytes are its fragments' tags in order. */
static inline void frag(struct mp_reasm *r, uint32_t link, uint32_t seq, const char *be,
			uint8_t tag, uint64_t now)
{
	bool b = strchr(be, 'B'), e = strchr(be, 'E');
	uint8_t p[3] = {0x00, 0x21, tag};

	assert_int_equal(mp_reasm_push(r, link, seq, b, e, b ? p : p + 2, b ? 3 : 1, now), 0);
}

/* The delivered packets, as a string of tags separated by '|'. */
static inline const char *got(const struct cap *c)
{
	static char s[4096];
	size_t o = 0;

	s[0] = '\0';
	for (size_t i = 0; i < c->n && o + 2 * c->len[i] + 2 < sizeof(s); i++) {
		assert_int_equal(c->proto[i], 0x0021);
		for (size_t j = 0; j < c->len[i]; j++)
			s[o++] = (char)c->data[i][j];
		s[o++] = '|';
		s[o] = '\0';
	}
	return s;
}
