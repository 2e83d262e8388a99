/* privs.c — see privs.h. */
#include "privs.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"

/* the user to become: named, or sudo's; false with *none when there is none */
static int target(const char *user, uid_t *uid, gid_t *gid, bool *none, char *err, size_t errlen)
{
    *none = false;
    if (user) {
        struct passwd *pw = getpwnam(user);
        char *end = NULL;
        unsigned long n = strtoul(user, &end, 10);
        if (!pw && end != user && !*end)
            pw = getpwuid((uid_t)n);
        if (!pw) {
            snprintf(err, errlen, "user %s: no such user here (getent passwd %s)", user, user);
            return -1;
        }
        *uid = pw->pw_uid;
        *gid = pw->pw_gid;
        return 0;
    }
    const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
    if (su && sg && *su && *sg) {
        *uid = (uid_t)strtoul(su, NULL, 10);
        *gid = (gid_t)strtoul(sg, NULL, 10);
        return 0;
    }
    *none = true;
    return 0;
}

static void add_needs(const struct privs_needs *n, bool only_held)
{
    if (n->net_raw && (!only_held || capng_have_capability(CAPNG_PERMITTED, CAP_NET_RAW)))
        capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_RAW);
    if (n->net_bind_service && (!only_held || capng_have_capability(CAPNG_PERMITTED, CAP_NET_BIND_SERVICE)))
        capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_BIND_SERVICE);
    if (n->sys_admin && (!only_held || capng_have_capability(CAPNG_PERMITTED, CAP_SYS_ADMIN)))
        capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_SYS_ADMIN);
}

int privs_drop(const char *user, const struct privs_needs *n, char *err, size_t errlen)
{
    uid_t uid = 0;
    gid_t gid = 0;
    bool none;
    if (target(user, &uid, &gid, &none, err, errlen) < 0)
        return -1;
    bool root = geteuid() == 0;
    if (!root && user) {
        snprintf(err, errlen, "--user %s: only root can become another user (this process is uid %u)", user,
                 (unsigned)geteuid());
        return -1;
    }
    if (capng_get_caps_process() < 0) {
        snprintf(err, errlen, "cannot read this process's capabilities: %s", strerror(errno));
        return -1;
    }
    bool held = capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE;
    if (!root && !held) /* nothing to give up */
        return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0;
    if (root && !none && uid != 0) {
        capng_clear(CAPNG_SELECT_BOTH);
        add_needs(n, false);
        int rc = capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
        if (rc < 0) {
            snprintf(err, errlen, "cannot become uid %u gid %u (capng_change_id: %d): %s", (unsigned)uid,
                     (unsigned)gid, rc, strerror(errno));
            return -1;
        }
    } else {
        /* root staying root, or file capabilities: keep only what is needed of what is held */
        capng_clear(root ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS);
        add_needs(n, !root);
        if (capng_apply(root ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS) < 0) {
            snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
            return -1;
        }
        if (root && none)
            log_info("running as root without the capabilities the run does not need; --user NAME (or user: in "
                     "the config) also gives up uid 0");
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
        return -1;
    }
    if (root && !none && uid != 0 && (getuid() != uid || geteuid() != uid || setuid(0) == 0)) {
        snprintf(err, errlen, "the switch to uid %u did not hold", (unsigned)uid);
        return -1;
    }
    char b[128];
    log_info("privileges: %s", privs_describe(b, sizeof b));
    return 0;
}

int privs_check_writable(const char *path, const char *what, char *err, size_t errlen)
{
    if (!path || !strcmp(path, "-"))
        return 0;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.telrep-probe-%ld", dir, (long)getpid());
    FILE *f = fopen(probe, "wx");
    if (!f) {
        snprintf(err, errlen, "%s %s: as uid %u, no file can be made in %s: %s (choose a directory this user can "
                 "write, or another --user)", what, path, (unsigned)geteuid(), dir, strerror(errno));
        return -1;
    }
    fclose(f);
    unlink(probe);
    return 0;
}

const char *privs_describe(char *buf, size_t len)
{
    capng_get_caps_process();
    char *caps = capng_print_caps_text(CAPNG_PRINT_BUFFER, CAPNG_EFFECTIVE);
    snprintf(buf, len, "uid %u gid %u, capabilities: %s", (unsigned)geteuid(), (unsigned)getegid(),
             caps && *caps ? caps : "none");
    free(caps);
    return buf;
}
