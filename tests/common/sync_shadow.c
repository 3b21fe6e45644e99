/*
 * LD_PRELOAD shim for tests/durability.rs: records what a power cut would leave on disk.
 *
 * A power cut keeps exactly what was synced. So on every fsync/fdatasync of a file directly in
 * $SYNC_SHADOW_WATCH, this copies the file's whole current content to $SYNC_SHADOW_DIR/<name>;
 * on a sync of that directory itself, it writes the directory's entry names to
 * $SYNC_SHADOW_DIR/.listing (a new file survives only once its directory entry was synced).
 * The test then kills the process and rebuilds the directory from these copies.
 *
 * SQLite only syncs with fdatasync and fsync (never sync_file_range, syncfs or O_SYNC opens),
 * and the Rust standard library's sync_all/sync_data call the same two functions.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t shadow_lock = PTHREAD_MUTEX_INITIALIZER;

/* Fills a temporary file and renames it over out/name, so a half-made copy never counts. */
static void save(const char *out, const char *name, int (*fill)(int to, void *arg), void *arg) {
    char tmp[PATH_MAX], final_path[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.tmp", out);
    snprintf(final_path, sizeof final_path, "%s/%s", out, name);
    int to = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (to < 0) return;
    int ok = fill(to, arg) == 0;
    close(to);
    if (ok) rename(tmp, final_path);
}

static int copy_content(int to, void *arg) {
    int from = *(int *)arg;
    char buf[65536];
    off_t at = 0;
    for (;;) {
        ssize_t n = pread(from, buf, sizeof buf, at);
        if (n < 0) return -1;
        if (n == 0) return 0;
        if (write(to, buf, (size_t)n) != n) return -1;
        at += n;
    }
}

static int list_entries(int to, void *arg) {
    DIR *dir = opendir((const char *)arg);
    if (!dir) return -1;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        dprintf(to, "%s\n", e->d_name);
    }
    closedir(dir);
    return 0;
}

static void shadow(int fd) {
    const char *watch = getenv("SYNC_SHADOW_WATCH");
    const char *out = getenv("SYNC_SHADOW_DIR");
    if (!watch || !out) return;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return;
    path[n] = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) return;
    size_t wl = strlen(watch);
    pthread_mutex_lock(&shadow_lock);
    if (S_ISDIR(st.st_mode) && strcmp(path, watch) == 0) {
        save(out, ".listing", list_entries, (void *)watch);
    } else if (S_ISREG(st.st_mode) && strncmp(path, watch, wl) == 0 && path[wl] == '/' &&
               !strchr(path + wl + 1, '/')) {
        save(out, path + wl + 1, copy_content, &fd);
    }
    pthread_mutex_unlock(&shadow_lock);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    shadow(fd);
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    shadow(fd);
    return real(fd);
}
