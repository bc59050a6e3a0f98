/* Fuzz the APN database loader (libconfig text -> validated carriers and the
 * PLMN index) and the IMSI -> PLMN rule. The input is a database; its first
 * line (after a leading '#', so it can be a comment), cut to 20 bytes, is also
 * tried as an IMSI and as a PLMN. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apn.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], first[21], plmn[8], why[200];
	struct apn_profile p;

	log_set_level(LOG_ERR);
	size_t skip = size && data[0] == '#' ? 1 : 0, n = 0;
	while (skip + n < size && n < sizeof(first) - 1 && data[skip + n] != '\n')
		n++;
	memcpy(first, data + skip, n);
	first[n] = 0;
	if (apn_plmn_from_imsi(first, plmn, sizeof(plmn)) == 0 && strlen(plmn) != 5 &&
	    strlen(plmn) != 6)
		__builtin_trap();

	struct apn_db *db =
	    apn_db_load_string((const char *)data, size, "fuzz.conf", err, sizeof(err));
	if (!db && !err[0])
		__builtin_trap(); /* every refusal must say why */
	struct apn_db *dbs[] = {db};
	apn_resolve(NULL, dbs, db ? 1 : 0, NULL, first, NULL, &p, why, sizeof(why));
	apn_resolve(NULL, dbs, db ? 1 : 0, NULL, NULL, first, &p, why, sizeof(why));
	apn_db_lookup(db, "46001");
	apn_db_free(db);
	return 0;
}
