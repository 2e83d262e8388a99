/* privs.h — least privilege, as OpenBGPD does it: what needs privileges is opened first
 * (live captures, device-bound and low-port sockets, the descriptor limit), then the process
 * gives up everything the rest of the run does not need.
 *
 * The rules:
 * - Who it becomes: the user named (--user NAME or the config's user:), else the user who ran
 *   sudo (SUDO_UID/SUDO_GID), else it stays who it is. Root with no user to become keeps uid 0
 *   but no capability beyond the needs below (said once at info level).
 * - What it keeps: only the capabilities the run still needs, in the effective and permitted
 *   sets: CAP_NET_RAW while sockets bound to a device (SO_BINDTODEVICE) may still be opened
 *   (TCP reconnects, new sessions), CAP_NET_BIND_SERVICE while a source port below 1024 may
 *   be bound, CAP_SYS_ADMIN while sockets are opened in other network namespaces (flow-replay
 *   --client-netns / --server-netns). Nothing else; the bounding set is cleared when the process may clear it, the
 *   supplementary groups are dropped, and no_new_privs is set so no exec regains anything.
 * - Without root, from file capabilities (setcap cap_net_raw,cap_net_bind_service+ep), the same
 *   reduction applies to what the file gave; naming a user then is an error (only root can
 *   become another user).
 * - Reading a capture file never needs anything: a run with no needs ends with none.
 * - A drop that fails is an error (exit 2), never a silent run with more than it should have. */
#ifndef TELREP_PRIVS_H
#define TELREP_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

struct privs_needs {
    bool net_raw;          /* SO_BINDTODEVICE on sockets opened later */
    bool net_bind_service; /* binding source ports below 1024 later */
    bool sys_admin;        /* entering other network namespaces (setns) for sockets opened later */
};

/* Drop as the rules say. user: NULL for the default. 0, or -1 with err. what: said in the log
 * ("telrep", "pcap-proc"). */
int privs_drop(const char *user, const struct privs_needs *n, char *err, size_t errlen);

/* After the drop: can this process still write `path` (a file written at the end, by
 * temporary file and rename, so its directory must take a new file)? NULL and "-" can. 0, or -1
 * with err naming the path and the user, so that a run fails before sending, not after. */
int privs_check_writable(const char *path, const char *what, char *err, size_t errlen);

/* "uid 65534, capabilities: none" (what the process holds now, for the log and tests) */
const char *privs_describe(char *buf, size_t len);

#endif
