/* Carrier database: PLMN (MCC+MNC) -> APN profile. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct config;

enum apn_auth { APN_AUTH_ANY = 0, APN_AUTH_NONE, APN_AUTH_PAP, APN_AUTH_CHAP };

/* How to dial: 3GPP packet data (*99#-style, needs AT+CGDCONT) or CDMA/EVDO
 * (#777 with user/password, no PDP context). Picks the chat script. */
enum apn_dial_kind { APN_DIAL_3GPP = 0, APN_DIAL_CDMA };

struct apn_profile {
	char plmn[8];	   /* "46001" */
	char provider[64]; /* "China Unicom" */
	char apn[64];	   /* may be empty for CDMA */
	char number[32];   /* "*99#" */
	char user[64];
	char password[64];
	enum apn_auth auth;
	enum apn_dial_kind kind;
	char source[160]; /* why this one: "curated.conf:12 (China Unicom)", "config: plmn 46001" */
};

struct apn_db;

/* Load one database file (the curated file or the imported one; same format).
 * Returns NULL and fills err on failure. */
struct apn_db *apn_db_load(const char *path, char *err, size_t errlen);
struct apn_db *apn_db_free(struct apn_db *db);
size_t apn_db_count(const struct apn_db *db);

/* Limits a database file must respect (errors, never truncation). */
#define APN_DB_MAX_CARRIERS 20000
#define APN_DB_MAX_PLMNS    64 /* per carrier */
#define APN_DB_MAX_BYTES    (16u << 20)

/* Same as apn_db_load from text (tests, fuzzing); name is used in messages
 * and sources ("name:line"). text need not be NUL-terminated. */
struct apn_db *apn_db_load_string(const char *text, size_t len, const char *name, char *err,
				  size_t errlen);
/* Name the database was loaded under (basename of the path). */
const char *apn_db_name(const struct apn_db *db);
/* Exact PLMN lookup in one database; NULL when absent. The returned profile's
 * plmn field is empty (a carrier lists several); source is "file:line (provider)". */
const struct apn_profile *apn_db_lookup(const struct apn_db *db, const char *plmn);

/* PLMN from an IMSI: 3-digit MCC, then a 2- or 3-digit MNC (decided by the
 * MCC's MNC length table, e.g. 310-316 and 302 use 3 digits). out >= 7. */
int apn_plmn_from_imsi(const char *imsi, char *out, size_t outlen);

/* Resolve the profile for a modem: per-ICCID override from cfg, then per-PLMN
 * override from cfg, then each database in order. cfg and iccid may be NULL.
 * imsi may be NULL when plmn is given; when both are given the IMSI wins (it
 * names the home network; a PLMN from AT+COPS may be a roaming partner).
 * For MCCs where 3-digit MNCs occur (apn_mcc_is_ambiguous) the 6-digit PLMN
 * is tried before the 5-digit one, within each database (databases keep their
 * order: curated first). Returns 0 with out->source also copied into why, or
 * -ENOENT with a reason in why ("no APN for PLMN 12345"), or -EINVAL for a
 * malformed IMSI/PLMN. */
int apn_resolve(const struct config *cfg, struct apn_db *const *dbs, size_t n_dbs,
		const char *iccid, const char *imsi, const char *plmn, struct apn_profile *out,
		char *why, size_t whylen);

/* True when the MCC (first 3 digits of s) has 3-digit MNCs, at least for
 * some networks, so a 5-digit and a 6-digit PLMN are both plausible. */
bool apn_mcc_is_ambiguous(const char *s);

const char *apn_auth_to_string(enum apn_auth a);
int apn_auth_from_string(const char *s, enum apn_auth *out);
const char *apn_dial_kind_to_string(enum apn_dial_kind k);
int apn_dial_kind_from_string(const char *s, enum apn_dial_kind *out);
