#include "ippool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct lease {
	struct lease *next_name, *next_addr; /* hash chains */
	uint32_t addr;
	unsigned refs;
	bool dynamic; /* its bitmap bit is the lease's (not a static reservation) */
	char name[];  /* "" for anonymous */
};

struct static_ent {
	uint32_t addr;
	char *name;
};

struct recent {
	uint64_t name_hash; /* a hash is enough: a false match only prefers */
	uint32_t addr;
};

struct ippool {
	uint32_t base, size; /* range: base .. base + size - 1 */
	uint32_t server;
	uint64_t *used; /* bit set: not available (reserved, static or leased) */
	uint32_t nwords;
	size_t n_free, capacity;
	uint32_t cursor; /* next-fit start (offset in the range) */

	struct lease **by_name, **by_addr;
	uint32_t bucket_mask;

	struct static_ent *statics;
	size_t n_static, cap_static;

	struct recent recent[IPPOOL_RECENT];
	unsigned recent_head, n_recent;
};

int ippool_parse_cidr(const char *s, uint32_t *net, unsigned *prefix)
{
	char buf[32];
	const char *slash;
	struct in_addr a;
	char *end;

	if (!s || !(slash = strchr(s, '/')) || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1 || slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	unsigned long pl = strtoul(slash + 1, &end, 10);
	if (errno || *end || pl > 32)
		return -EINVAL;
	*prefix = (unsigned)pl;
	*net = pl ? ntohl(a.s_addr) & ~(uint32_t)((1ull << (32 - pl)) - 1) : 0;
	return 0;
}

/* --- bitmap --- */

static bool bit_get(const struct ippool *p, uint32_t off)
{
	return p->used[off / 64] >> (off % 64) & 1;
}

static void bit_set(struct ippool *p, uint32_t off)
{
	p->used[off / 64] |= 1ull << (off % 64);
}

static void bit_clear(struct ippool *p, uint32_t off)
{
	p->used[off / 64] &= ~(1ull << (off % 64));
}

/* First clear bit at or after the cursor, wrapping; -1 when full. */
static int64_t find_free(const struct ippool *p)
{
	uint32_t start = p->cursor < p->size ? p->cursor : 0;
	uint32_t w0 = start / 64;

	for (uint32_t i = 0; i <= p->nwords; i++) {
		uint32_t w = (w0 + i) % p->nwords;
		uint64_t free_bits = ~p->used[w];
		if (i == 0)
			free_bits &= ~0ull << (start % 64); /* from the cursor on */
		else if (i == p->nwords)
			free_bits &= (start % 64) ? ~(~0ull << (start % 64)) : 0;
		if (free_bits)
			return (int64_t)w * 64 + __builtin_ctzll(free_bits);
	}
	return -1;
}

/* --- hashes --- */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static uint32_t name_bucket(const struct ippool *p, const char *s)
{
	return (uint32_t)(name_hash(s) >> 17) & p->bucket_mask;
}

static uint32_t addr_bucket(const struct ippool *p, uint32_t a)
{
	return (a * 0x9e3779b1u >> 7) & p->bucket_mask;
}

static struct lease *lease_by_name(const struct ippool *p, const char *name)
{
	for (struct lease *l = p->by_name[name_bucket(p, name)]; l; l = l->next_name)
		if (!strcmp(l->name, name))
			return l;
	return NULL;
}

static struct lease *lease_by_addr(const struct ippool *p, uint32_t a)
{
	for (struct lease *l = p->by_addr[addr_bucket(p, a)]; l; l = l->next_addr)
		if (l->addr == a)
			return l;
	return NULL;
}

static void unlink_lease(struct ippool *p, struct lease *x)
{
	struct lease **pp;

	if (x->name[0]) {
		for (pp = &p->by_name[name_bucket(p, x->name)]; *pp; pp = &(*pp)->next_name)
			if (*pp == x) {
				*pp = x->next_name;
				break;
			}
	}
	for (pp = &p->by_addr[addr_bucket(p, x->addr)]; *pp; pp = &(*pp)->next_addr)
		if (*pp == x) {
			*pp = x->next_addr;
			break;
		}
}

/* --- pool --- */

bool ippool_in_range(const struct ippool *p, uint32_t a)
{
	return a - p->base < p->size;
}

static bool addr_usable(uint32_t a)
{
	return a != 0 && (a >> 24) != 127 && a < 0xe0000000u && (a >> 24) != 0;
}

int ippool_new(struct ippool **out, uint32_t net, unsigned prefix, uint32_t server)
{
	struct ippool *p;

	*out = NULL;
	if (prefix < IPPOOL_MIN_PREFIX || prefix > IPPOOL_MAX_PREFIX)
		return -EINVAL;
	uint32_t size = 1u << (32 - prefix);
	net &= ~(size - 1);
	if (!addr_usable(net + 1) || !addr_usable(net + size - 1))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->base = net;
	p->size = size;
	p->server = server;
	p->nwords = (size + 63) / 64;
	uint32_t nb = 64;
	while (nb < size / 2)
		nb <<= 1;
	p->bucket_mask = nb - 1;
	p->used = calloc(p->nwords, sizeof(*p->used));
	p->by_name = calloc(nb, sizeof(*p->by_name));
	p->by_addr = calloc(nb, sizeof(*p->by_addr));
	if (!p->used || !p->by_name || !p->by_addr) {
		ippool_free(p);
		return -ENOMEM;
	}
	for (uint32_t off = size; off < p->nwords * 64; off++)
		bit_set(p, off); /* past the range (a /30 uses 4 bits of a word) */
	bit_set(p, 0);		 /* network */
	bit_set(p, size - 1);	 /* broadcast */
	p->capacity = size - 2;
	if (ippool_in_range(p, server) && !bit_get(p, server - net)) {
		bit_set(p, server - net);
		p->capacity--;
	}
	p->n_free = p->capacity;
	p->cursor = 1;
	*out = p;
	return 0;
}

struct ippool *ippool_free(struct ippool *p)
{
	if (!p)
		return NULL;
	if (p->by_addr)
		for (uint32_t b = 0; b <= p->bucket_mask; b++)
			for (struct lease *l = p->by_addr[b], *n; l; l = n) {
				n = l->next_addr;
				free(l);
			}
	for (size_t i = 0; i < p->n_static; i++)
		free(p->statics[i].name);
	free(p->statics);
	free(p->by_name);
	free(p->by_addr);
	free(p->used);
	free(p);
	return NULL;
}

static const struct static_ent *static_by_name(const struct ippool *p, const char *name)
{
	for (size_t i = 0; i < p->n_static; i++)
		if (!strcmp(p->statics[i].name, name))
			return &p->statics[i];
	return NULL;
}

static bool static_addr(const struct ippool *p, uint32_t a)
{
	for (size_t i = 0; i < p->n_static; i++)
		if (p->statics[i].addr == a)
			return true;
	return false;
}

int ippool_add_static(struct ippool *p, const char *name, uint32_t addr)
{
	if (!name || !name[0] || !addr_usable(addr) || addr == p->server)
		return -EINVAL;
	if (strlen(name) > IPPOOL_NAME_MAX)
		return -ENAMETOOLONG;
	if (ippool_in_range(p, addr) && (addr == p->base || addr == p->base + p->size - 1))
		return -EINVAL;
	if (static_by_name(p, name) || static_addr(p, addr))
		return -EEXIST;
	struct lease *l = lease_by_addr(p, addr);
	if (l && strcmp(l->name, name))
		return -EBUSY;
	if (p->n_static >= IPPOOL_MAX_STATIC)
		return -ENOSPC;
	if (p->n_static == p->cap_static) {
		size_t cap = p->cap_static ? p->cap_static * 2 : 16;
		struct static_ent *s = realloc(p->statics, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		p->statics = s;
		p->cap_static = cap;
	}
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	p->statics[p->n_static++] = (struct static_ent){.addr = addr, .name = copy};
	if (ippool_in_range(p, addr)) {
		if (l && l->dynamic) {
			l->dynamic = false; /* the holder is its owner: now static */
		} else {
			bit_set(p, addr - p->base);
			p->n_free--;
		}
	}
	return 0;
}

/* The remembered address of a name that left recently, if still free. */
static bool recent_addr(const struct ippool *p, const char *name, uint32_t *a)
{
	uint64_t h = name_hash(name);

	for (unsigned i = 0; i < p->n_recent; i++) {
		const struct recent *r =
		    &p->recent[(p->recent_head + IPPOOL_RECENT - 1 - i) % IPPOOL_RECENT];
		if (r->name_hash != h)
			continue;
		if (!ippool_in_range(p, r->addr) || bit_get(p, r->addr - p->base))
			return false;
		*a = r->addr;
		return true;
	}
	return false;
}

static void remember(struct ippool *p, const char *name, uint32_t a)
{
	p->recent[p->recent_head % IPPOOL_RECENT] =
	    (struct recent){.name_hash = name_hash(name), .addr = a};
	p->recent_head = (p->recent_head + 1) % IPPOOL_RECENT;
	if (p->n_recent < IPPOOL_RECENT)
		p->n_recent++;
}

int ippool_alloc(struct ippool *p, const char *name, uint32_t *addr)
{
	const struct static_ent *s = NULL;
	struct lease *l;
	uint32_t a;
	bool dynamic = true;

	if (!name)
		name = "";
	size_t nlen = strlen(name);
	if (nlen > IPPOOL_NAME_MAX)
		return -ENAMETOOLONG;
	if (nlen && (l = lease_by_name(p, name))) {
		l->refs++;
		*addr = l->addr;
		return 0;
	}
	if (nlen && (s = static_by_name(p, name))) {
		a = s->addr;
		dynamic = false;
	} else if (!(nlen && recent_addr(p, name, &a))) {
		int64_t off = find_free(p);
		if (off < 0)
			return -ENOSPC;
		a = p->base + (uint32_t)off;
		p->cursor = (uint32_t)off + 1;
	}
	l = calloc(1, sizeof(*l) + nlen + 1);
	if (!l)
		return -ENOMEM;
	memcpy(l->name, name, nlen + 1);
	l->addr = a;
	l->refs = 1;
	l->dynamic = dynamic;
	if (dynamic) {
		bit_set(p, a - p->base);
		p->n_free--;
	}
	if (nlen) {
		uint32_t b = name_bucket(p, name);
		l->next_name = p->by_name[b];
		p->by_name[b] = l;
	}
	uint32_t b = addr_bucket(p, a);
	l->next_addr = p->by_addr[b];
	p->by_addr[b] = l;
	*addr = a;
	return 0;
}

int ippool_release(struct ippool *p, uint32_t addr)
{
	struct lease *l = lease_by_addr(p, addr);

	if (!l)
		return -ENOENT;
	if (--l->refs > 0)
		return 0;
	unlink_lease(p, l);
	if (l->dynamic) {
		bit_clear(p, addr - p->base);
		p->n_free++;
		if (l->name[0])
			remember(p, l->name, addr);
	}
	free(l);
	return 0;
}

const char *ippool_owner(const struct ippool *p, uint32_t addr)
{
	const struct lease *l = lease_by_addr(p, addr);
	return l ? l->name : NULL;
}

size_t ippool_available(const struct ippool *p)
{
	return p->n_free;
}

size_t ippool_capacity(const struct ippool *p)
{
	return p->capacity;
}
