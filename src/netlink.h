/* netlink.h — before sending anything: does the interface exist, is every repro_ip local? */
#ifndef TELREP_NETLINK_H
#define TELREP_NETLINK_H

#include <stddef.h>

#include "config.h"

/* 0 if the interface (if any) exists and every repro_ip is assigned to a local
 * interface; -1 with a message that names what is missing and the command that fixes it. */
int netlink_check(const struct config *c, char *err, size_t errlen);

#endif
