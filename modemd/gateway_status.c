/* Gateway: status JSON and the link list for mpctl. */
#include "gateway-internal.h"

#include "route.h"

#include <json-c/json.h>
#include <string.h>

size_t gateway_link_names(const struct gateway *gw, const char **out, size_t max)
{
	size_t n = 0;
	for (const struct gw_link *l = gw->links; l && n < max; l = l->next)
		out[n++] = l->name;
	return n;
}

json_object *gateway_status_json(const struct gateway *gw)
{
	json_object *o = json_object_new_object(), *links = json_object_new_array();
	char a[16];
	json_object_object_add(o, "name", json_object_new_string(gw->our_name));
	json_object_object_add(o, "receiver", json_object_new_string(gw->rx_str));
	json_object_object_add(o, "tun", json_object_new_string(gw->tun_name));
	json_object_object_add(o, "state",
			       json_object_new_string(gw->tun_up ? "up"
						      : gw->b	 ? "negotiating"
								 : "down"));
	json_object_object_add(o, "local_address",
			       gw->tun_up ? json_object_new_string(bd_ip4(gw->local, a, sizeof(a)))
					  : NULL);
	json_object_object_add(o, "peer_address",
			       gw->tun_up ? json_object_new_string(bd_ip4(gw->peer, a, sizeof(a)))
					  : NULL);
	/* RFC 1877 servers from IPCP: shown, never written to resolv.conf. */
	json_object *dns = json_object_new_array();
	for (size_t i = 0; gw->tun_up && i < 2; i++)
		if (gw->dns[i])
			json_object_array_add(
			    dns, json_object_new_string(bd_ip4(gw->dns[i], a, sizeof(a))));
	json_object_object_add(o, "dns", dns);
	char l6[ROUTE_ADDRSTRLEN];
	json_object_object_add(o, "ipv6",
			       json_object_new_string(gw->tun6_up      ? "up"
						      : gw->ipv6cp_off ? "refused"
						      : !gw->has_ipv6  ? "off"
						      : gw->ipv6cp     ? "negotiating"
								       : "down"));
	json_object_object_add(
	    o, "local_address6",
	    gw->tun6_up ? json_object_new_string(bd_ll_str(gw->iid, l6, sizeof(l6))) : NULL);
	json_object_object_add(
	    o, "peer_address6",
	    gw->tun6_up ? json_object_new_string(bd_ll_str(gw->peer_iid, l6, sizeof(l6))) : NULL);
	json_object_object_add(o, "stats", gw->b ? bd_bundle_json(gw->b) : NULL);
	json_object_object_add(o, "dropped_blocked",
			       json_object_new_int64((int64_t)gw->drop_blocked));
	json_object_object_add(o, "dropped_down", json_object_new_int64((int64_t)gw->drop_down));
	json_object_object_add(o, "dropped_other", json_object_new_int64((int64_t)gw->drop_other));
	for (const struct gw_link *l = gw->links; l; l = l->next) {
		const char *kind = l->cl ? "static" : "modem";
		json_object *row;
		if (l->pl) {
			row = bd_link_json(l->pl, kind, l->ifname, l->local, gw->rx_str);
		} else {
			row = json_object_new_object();
			json_object_object_add(row, "name", json_object_new_string(l->name));
			json_object_object_add(row, "kind", json_object_new_string(kind));
			json_object_object_add(row, "interface", json_object_new_string(l->ifname));
			json_object_object_add(row, "phase", json_object_new_string("down"));
		}
		json_object_object_add(row, "admin",
				       json_object_new_string(l->admin_up ? "up" : "down"));
		/* Why it is not carrying traffic: waiting for setup, or why it
		 * last left the bundle (wrong secret, peer terminated, ...). */
		const char *why = l->waiting[0] ? l->waiting : NULL;
		if (!why && l->last_down[0] && !(l->pl && plink_bundle(l->pl)))
			why = l->last_down;
		json_object_object_add(row, "reason", why ? json_object_new_string(why) : NULL);
		json_object_array_add(links, row);
	}
	json_object_object_add(o, "links", links);
	return o;
}
