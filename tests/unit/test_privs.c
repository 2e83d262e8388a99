/* privs: each drop runs in a forked child (a drop cannot be undone), which reports what
 * /proc/self/status says it holds afterwards through its exit status. As root (CI): the user
 * named, sudo's user, root without capabilities, the needs kept, the writable check. */
#include "testutil.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privs.h"

/* /proc/self/status's line "key:" → its first field (hex or decimal) */
static unsigned long long status_field(const char *key, int base)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long v = ~0ull;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':')
            v = strtoull(line + n + 1, NULL, base);
    if (f)
        fclose(f);
    return v;
}

#define OK_EXIT 42
/* In a child: drop, then check uid and the effective/permitted/bounding sets. */
static int child(const char *user, struct privs_needs n, unsigned long long want_uid, unsigned long long want_caps)
{
    pid_t pid = fork();
    if (pid == 0) {
        char err[512];
        if (privs_drop(user, &n, err, sizeof err) < 0) {
            fprintf(stderr, "privs_drop: %s\n", err);
            _exit(1);
        }
        if (status_field("Uid", 10) != want_uid)
            _exit(2);
        if (status_field("CapEff", 16) != want_caps || status_field("CapPrm", 16) != want_caps)
            _exit(3);
        if (status_field("CapBnd", 16) != want_caps && status_field("CapBnd", 16) != 0)
            _exit(4);
        if (status_field("NoNewPrivs", 10) != 1)
            _exit(5);
        _exit(OK_EXIT);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define NET_RAW (1ull << 13)
#define NET_BIND (1ull << 10)

static void test_user_and_needs(void **state)
{
    if (geteuid() != 0)
        skip(); /* said by main: these need root, as in CI */
    struct passwd *pw = getpwnam("nobody");
    assert_non_null(pw);
    unsetenv("SUDO_UID");
    unsetenv("SUDO_GID");
    assert_int_equal(child("nobody", (struct privs_needs){ 0 }, pw->pw_uid, 0), OK_EXIT);
    assert_int_equal(child("nobody", (struct privs_needs){ .net_raw = true }, pw->pw_uid, NET_RAW), OK_EXIT);
    assert_int_equal(child("nobody", (struct privs_needs){ .net_bind_service = true }, pw->pw_uid, NET_BIND), OK_EXIT);
    assert_int_equal(child("nobody", (struct privs_needs){ .net_raw = true, .net_bind_service = true }, pw->pw_uid, NET_RAW | NET_BIND), OK_EXIT);
    /* no user: root stays uid 0, without the capabilities it does not need */
    assert_int_equal(child(NULL, (struct privs_needs){ 0 }, 0, 0), OK_EXIT);
    /* sudo's user when none is named */
    setenv("SUDO_UID", "65534", 1);
    setenv("SUDO_GID", "65534", 1);
    assert_int_equal(child(NULL, (struct privs_needs){ 0 }, 65534, 0), OK_EXIT);
    unsetenv("SUDO_UID");
    unsetenv("SUDO_GID");
}

static void test_unknown_user(void **state)
{
    char err[512];
    pid_t pid = fork();
    if (pid == 0)
        _exit(privs_drop("telrep-no-such-user", &(struct privs_needs){ 0 }, err, sizeof err) < 0 &&
              strstr(err, "no such user") ? OK_EXIT : 1);
    int st = 0;
    waitpid(pid, &st, 0);
    assert_int_equal(WEXITSTATUS(st), OK_EXIT);
}

/* After becoming nobody, a root-only folder is said to be unwritable, before the run sends */
static void test_writable(void **state)
{
    if (geteuid() != 0)
        skip();
    char dir[] = "/tmp/telrep-privs-XXXXXX";
    assert_non_null(mkdtemp(dir));
    chmod(dir, 0700);
    char path[64];
    snprintf(path, sizeof path, "%s/report.json", dir);
    char err[512];
    assert_int_equal(privs_check_writable(path, "--stats-json", err, sizeof err), 0);
    assert_int_equal(privs_check_writable("-", "--stats-json", err, sizeof err), 0);
    assert_int_equal(privs_check_writable(NULL, "--stats-json", err, sizeof err), 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (privs_drop("nobody", &(struct privs_needs){ 0 }, err, sizeof err) < 0)
            _exit(1);
        _exit(privs_check_writable(path, "--stats-json", err, sizeof err) < 0 && strstr(err, "--stats-json") &&
              strstr(err, dir) ? OK_EXIT : 2);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    rmdir(dir);
    assert_int_equal(WEXITSTATUS(st), OK_EXIT);
}

int main(void)
{
    if (geteuid() != 0)
        fprintf(stderr, "test_privs: not root: the drops to another user are skipped (CI runs them as root)\n");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_and_needs),
        cmocka_unit_test(test_unknown_user),
        cmocka_unit_test(test_writable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
