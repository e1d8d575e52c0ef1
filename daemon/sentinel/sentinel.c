/*
 * selfheal-sentinel: the daemon's lookout between its scans. A Node.js
 * process costs hundreds of microseconds of CPU for every wake-up, so the
 * small looks that must come ten times a second (forks, memory, adopted
 * programs' ends) are taken here, in a small C program, and the daemon is
 * woken only when one of them finds something.
 *
 *   selfheal-sentinel [--signal-probe]
 *
 * It only reads: it never signals, stops or changes any process (the one
 * kill() in it sends signal 0, which only asks whether a PID exists). It ends
 * when its stdin closes (the daemon is gone) or its stdout does.
 *
 * What to look out for comes on stdin, one line each, fields split by single
 * spaces; every line replaces what an earlier one of the same kind said:
 *
 *   forks N                 tell when the kernel's fork counter (`processes`
 *                           in /proc/stat) has grown by N or more since last
 *                           told; 0 stops it
 *   drop BYTES              MemAvailable (/proc/meminfo) falling by BYTES or
 *                           more within one look is sharp: every memory group
 *                           is read then, the far ones too; 0 stops it
 *   watch PID START         tell when the process PID that started at START
 *                           (clock ticks after boot, field 22 of its stat
 *                           line) ends, or has already ended (a PID now held
 *                           by another process counts as ended)
 *   unwatch PID
 *   memory KEY MARK near|far PID...
 *                           a memory group: the resident memory of its PIDs
 *                           summed (/proc/PID/statm), told when it rises
 *                           above MARK bytes; a near group is read every
 *                           look, a far one only after a sharp drop
 *   forget KEY              drop the memory group KEY
 *   sync TOKEN              answered once the next look is done
 *
 * What it finds goes to stdout, one line each, only when something trips:
 *
 *   ready pidfd|signal      once, at start: how ends are watched (pidfd_open,
 *                           Linux 5.3+: at once, no polling; or signal 0
 *                           every look, on older kernels or --signal-probe)
 *   forks N                 N forks since last told
 *   ended PID               the watched process has ended (it is watched no more)
 *   over KEY BYTES          a memory group rose above its mark (told again
 *                           only after it has been read at or below it)
 *   synced TOKEN
 *
 * A line it cannot use is named on stderr (its number, what is wrong) and
 * skipped; the lines after it are read as usual.
 *
 * The looks come every LOOK_PERIOD_NS while there is something to look at
 * (a fork threshold, a memory group, an end watched by signal 0); otherwise
 * the sentinel sleeps in epoll_wait until a line or an end comes. Each file
 * read every look is opened once and read again with pread from offset 0
 * (the kernel renders it afresh): one system call a read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture */
#endif

/* Ten looks a second: what the daemon's targets for memory limits (150 ms), fork bombs (300 ms) and adopted ends (100 ms) need. */
#define LOOK_PERIOD_NS (100L * 1000 * 1000)
/* The longest line read: a memory group of a large tree (about 8 bytes a PID). */
#define LINE_MAX_BYTES (64 * 1024)
/* /proc/stat grows with the CPUs (its intr line too); the buffer doubles when a read fills it. */
#define INITIAL_READ_BYTES (16 * 1024)
#define STATM_BYTES 128
/* statm files held open at most, and at most this share of the open-file limit (the pidfds need room too). */
#define HELD_STATM_MAX 512
#define HELD_STATM_SHARE 4
#define KEY_MAX 32
#define TOKEN_MAX 64
/* epoll's tags for stdin and the timer; a pidfd's tag is its PID. */
#define TAG_STDIN ((uint64_t)-1)
#define TAG_TIMER ((uint64_t)-2)
#define EVENTS_AT_ONCE 32

/* One watched end: a pidfd in the epoll set, or -1 when signal 0 is asked every look instead. */
struct watch {
    pid_t pid;
    int pidfd;
};

/* One memory group: its PIDs' statm files, held open (-1: not opened yet, or gone). */
struct group {
    char key[KEY_MAX];
    unsigned long long mark;
    int near;
    /* Read above the mark and told; cleared once read at or below it. */
    int over;
    size_t count;
    pid_t *pids;
    int *fds;
};

static int epoll_fd;
static int timer_fd;
static int timer_armed = 0;
/* pidfd_open is there (Linux 5.3+) and not refused by --signal-probe. */
static int use_pidfd = 1;
static long page_size;

static struct watch *watches = NULL;
static size_t watch_count = 0;
static struct group *groups = NULL;
static size_t group_count = 0;

static unsigned long long fork_threshold = 0;
/* The fork counter when last told (or first read); 0: not read yet. */
static unsigned long long forks_told = 0;
static unsigned long long drop_bytes = 0;
/* MemAvailable at the last look, bytes; 0: not read yet. */
static unsigned long long last_available = 0;
static char sync_token[TOKEN_MAX] = "";
static int sync_pending = 0;

static int stat_fd = -1;
static int meminfo_fd = -1;
static char *read_buffer = NULL;
static size_t read_buffer_size = 0;
static unsigned long line_number = 0;
static size_t held_statm = 0;
static size_t held_statm_max = HELD_STATM_MAX;

/* A line to the daemon; if it cannot be written, the daemon is gone and so is the sentinel. */
static void tell(const char *format, ...) {
    char line[128];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length < 0 || (size_t)length >= sizeof line) return;
    if (write(STDOUT_FILENO, line, (size_t)length) != length) exit(0);
}

/* A line that cannot be used: named on stderr, and skipped. */
static void complain(const char *what, const char *line) {
    fprintf(stderr, "selfheal-sentinel: line %lu: %s: \"%.80s\"\n", line_number, what, line);
}

static void *grow(void *array, size_t count, size_t size) {
    void *bigger = realloc(array, (count + 1) * size);
    if (bigger == NULL) {
        fputs("selfheal-sentinel: out of memory\n", stderr);
        exit(1);
    }
    return bigger;
}

/* A whole /proc file read again from offset 0 into read_buffer (NUL-terminated); its length, or -1. */
static ssize_t read_whole(int fd) {
    if (fd < 0) return -1;
    for (;;) {
        ssize_t n = pread(fd, read_buffer, read_buffer_size - 1, 0);
        if (n < 0) return -1;
        if ((size_t)n < read_buffer_size - 1) {
            read_buffer[n] = '\0';
            return n;
        }
        read_buffer_size *= 2;
        free(read_buffer);
        read_buffer = grow(NULL, 0, read_buffer_size);
    }
}

/* The number after `key` (which starts a line) in the file, or 0 when it is not there. */
static unsigned long long field_after(int fd, const char *key) {
    ssize_t length = read_whole(fd);
    if (length < 0) return 0;
    char *at = memmem(read_buffer, (size_t)length, key, strlen(key));
    return at == NULL ? 0 : strtoull(at + strlen(key), NULL, 10);
}

static unsigned long long forks_since_boot(void) {
    return field_after(stat_fd, "\nprocesses ");
}

static unsigned long long available_bytes(void) {
    return field_after(meminfo_fd, "\nMemAvailable:") * 1024;
}

/* A number of the line, strictly: digits only, within max. */
static int parse_number(const char *text, unsigned long long max, unsigned long long *out) {
    if (text == NULL || *text < '0' || *text > '9') return -1;
    errno = 0;
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value > max) return -1;
    *out = value;
    return 0;
}

static int parse_pid(const char *text, pid_t *out) {
    unsigned long long value;
    if (parse_number(text, INT_MAX, &value) != 0 || value == 0) return -1;
    *out = (pid_t)value;
    return 0;
}

/* --- Adopted programs' ends. */

/* The state and start time (field 22) of a process, from its stat line; -1 when it is gone. */
static int read_identity(pid_t pid, char *state, unsigned long long *start) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    /* comm may hold spaces and parentheses: the fields start after the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] == '\0' || p[2] == '\0') return -1;
    p += 2;
    *state = *p;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL) return -1;
        p++;
    }
    *start = strtoull(p, NULL, 10);
    return 0;
}

static ssize_t find_watch(pid_t pid) {
    for (size_t i = 0; i < watch_count; i++)
        if (watches[i].pid == pid) return (ssize_t)i;
    return -1;
}

static void remove_watch(size_t i) {
    if (watches[i].pidfd >= 0) {
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, watches[i].pidfd, NULL);
        close(watches[i].pidfd);
    }
    watches[i] = watches[--watch_count];
}

static void ended(size_t i) {
    tell("ended %d\n", (int)watches[i].pid);
    remove_watch(i);
}

/* Watch PID's end. The pidfd is opened before the start time is checked, so it names the process that was checked. */
static void watch(pid_t pid, unsigned long long start) {
    ssize_t known = find_watch(pid);
    if (known >= 0) remove_watch((size_t)known);
    int pidfd = -1;
    if (use_pidfd) {
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0 && errno == ESRCH) {
            tell("ended %d\n", (int)pid);
            return;
        }
        /* Any other refusal (too many open files): that PID is asked with signal 0 every look. */
    }
    char state;
    unsigned long long actual;
    if (read_identity(pid, &state, &actual) != 0 || actual != start || state == 'Z' || state == 'X') {
        if (pidfd >= 0) close(pidfd);
        tell("ended %d\n", (int)pid);
        return;
    }
    watches = grow(watches, watch_count, sizeof *watches);
    watches[watch_count] = (struct watch){.pid = pid, .pidfd = pidfd};
    if (pidfd >= 0) {
        struct epoll_event event = {.events = EPOLLIN, .data.u64 = (uint64_t)pid};
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, pidfd, &event) != 0) {
            close(pidfd);
            watches[watch_count].pidfd = -1;
        }
    }
    watch_count++;
}

/* A pidfd became readable: its process has exited. */
static void pidfd_ready(pid_t pid) {
    ssize_t i = find_watch(pid);
    if (i >= 0) ended((size_t)i);
}

/* Signal 0 for the ends not watched by a pidfd: ESRCH means no process has that PID any more. */
static void probe_ends(void) {
    for (size_t i = 0; i < watch_count;) {
        if (watches[i].pidfd < 0 && kill(watches[i].pid, 0) != 0 && errno == ESRCH) ended(i);
        else i++;
    }
}

/* --- Memory groups. */

static ssize_t find_group(const char *key) {
    for (size_t i = 0; i < group_count; i++)
        if (strcmp(groups[i].key, key) == 0) return (ssize_t)i;
    return -1;
}

static void free_group(struct group *group) {
    for (size_t i = 0; i < group->count; i++)
        if (group->fds[i] >= 0) {
            close(group->fds[i]);
            held_statm--;
        }
    free(group->pids);
    free(group->fds);
}

/* Resident bytes of one PID of a group: statm's second field, in pages; a process gone reads 0. Its file stays
 * open while fewer than held_statm_max are held (large trees would use up the open files otherwise); past that it
 * is opened for each read. */
static unsigned long long resident_bytes(struct group *group, size_t i) {
    int fd = group->fds[i];
    if (fd < 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/statm", (int)group->pids[i]);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return 0;
        if (held_statm < held_statm_max) {
            group->fds[i] = fd;
            held_statm++;
        }
    }
    char buf[STATM_BYTES];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (fd != group->fds[i]) close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    char *space = strchr(buf, ' ');
    return space == NULL ? 0 : strtoull(space + 1, NULL, 10) * (unsigned long long)page_size;
}

static void read_group(struct group *group) {
    unsigned long long sum = 0;
    for (size_t i = 0; i < group->count; i++) sum += resident_bytes(group, i);
    if (sum <= group->mark) {
        group->over = 0;
    } else if (!group->over) {
        group->over = 1;
        tell("over %s %llu\n", group->key, sum);
    }
}

/* --- The looks. */

static int has_near_group(void) {
    for (size_t i = 0; i < group_count; i++)
        if (groups[i].near) return 1;
    return 0;
}

static int has_probed_end(void) {
    for (size_t i = 0; i < watch_count; i++)
        if (watches[i].pidfd < 0) return 1;
    return 0;
}

/* Is there anything to look at every LOOK_PERIOD_NS? */
static int looks_wanted(void) {
    return fork_threshold > 0 || (drop_bytes > 0 && group_count > 0) || has_near_group() || has_probed_end();
}

/* Start or stop the looks' timer as what is watched asks. */
static void arm_timer(void) {
    int wanted = looks_wanted();
    if (wanted == timer_armed) return;
    struct itimerspec period = {0};
    if (wanted) period.it_interval.tv_nsec = period.it_value.tv_nsec = LOOK_PERIOD_NS;
    timerfd_settime(timer_fd, 0, &period, NULL);
    timer_armed = wanted;
    /* The drop is measured within one look: a baseline from before a pause would be stale. */
    if (!wanted) last_available = 0;
}

static void look(void) {
    if (fork_threshold > 0) {
        unsigned long long now = forks_since_boot();
        if (forks_told == 0 || now < forks_told) forks_told = now;
        else if (now - forks_told >= fork_threshold) {
            tell("forks %llu\n", now - forks_told);
            forks_told = now;
        }
    }
    int sharp = 0;
    if (drop_bytes > 0 && group_count > 0) {
        unsigned long long available = available_bytes();
        sharp = last_available > available && last_available - available >= drop_bytes;
        last_available = available;
    }
    for (size_t i = 0; i < group_count; i++)
        if (sharp || groups[i].near) read_group(&groups[i]);
    probe_ends();
    if (sync_pending) {
        sync_pending = 0;
        tell("synced %s\n", sync_token);
    }
}

/* --- The daemon's lines. */

/* The most fields of a line other than memory's. */
#define MAX_FIELDS_FIXED 4

/* Split a line at single spaces, in place; the number of fields (at most max). */
static size_t split(char *line, char **fields, size_t max) {
    size_t count = 0;
    char *p = line;
    while (count < max) {
        fields[count++] = p;
        p = strchr(p, ' ');
        if (p == NULL) break;
        *p++ = '\0';
    }
    return p == NULL ? count : max + 1;
}

/* memory KEY MARK near|far PID...: the group replaces one of the same key, keeping the files its PIDs still name. */
static void memory_line(char *rest, const char *line) {
    char *key = rest;
    char *p = strchr(key, ' ');
    if (p == NULL) return complain("memory needs KEY MARK near|far PID...", line);
    *p++ = '\0';
    char *mark_text = p;
    p = strchr(p, ' ');
    if (p == NULL) return complain("memory needs KEY MARK near|far PID...", line);
    *p++ = '\0';
    char *mode = p;
    p = strchr(p, ' ');
    if (p == NULL) return complain("memory needs at least one PID", line);
    *p++ = '\0';
    unsigned long long mark;
    if (*key == '\0' || strlen(key) >= KEY_MAX) return complain("KEY must be 1 to 31 characters", line);
    if (parse_number(mark_text, ULLONG_MAX, &mark) != 0) return complain("MARK must be a number of bytes", line);
    int near = strcmp(mode, "near") == 0;
    if (!near && strcmp(mode, "far") != 0) return complain("the mode must be near or far", line);
    struct group group = {.mark = mark, .near = near};
    strcpy(group.key, key);
    for (char *pid_text = p; pid_text != NULL;) {
        char *next = strchr(pid_text, ' ');
        if (next != NULL) *next++ = '\0';
        pid_t pid;
        if (parse_pid(pid_text, &pid) != 0) {
            free(group.pids);
            free(group.fds);
            return complain("a PID must be a positive number", line);
        }
        group.pids = grow(group.pids, group.count, sizeof *group.pids);
        group.fds = grow(group.fds, group.count, sizeof *group.fds);
        group.pids[group.count] = pid;
        group.fds[group.count++] = -1;
        pid_text = next;
    }
    ssize_t known = find_group(key);
    if (known < 0) {
        groups = grow(groups, group_count, sizeof *groups);
        groups[group_count++] = group;
        return;
    }
    struct group *old = &groups[known];
    for (size_t i = 0; i < group.count; i++)
        for (size_t j = 0; j < old->count; j++)
            if (old->pids[j] == group.pids[i] && old->fds[j] >= 0) {
                group.fds[i] = old->fds[j];
                old->fds[j] = -1;
            }
    /* Over the same mark stays told; a new mark is judged afresh. */
    group.over = old->mark == mark ? old->over : 0;
    free_group(old);
    *old = group;
}

/* One line from the daemon. */
static void command(char *line) {
    char copy[128];
    snprintf(copy, sizeof copy, "%s", line);
    char *space = strchr(line, ' ');
    char *rest = space == NULL ? NULL : space + 1;
    if (space != NULL) *space = '\0';
    /* A group's PIDs are many: its line is read by memory_line; the others have a few fields. */
    if (strcmp(line, "memory") == 0) {
        if (rest == NULL) return complain("memory needs KEY MARK near|far PID...", copy);
        return memory_line(rest, copy);
    }
    char *fields[MAX_FIELDS_FIXED];
    size_t count = rest == NULL ? 0 : split(rest, fields, MAX_FIELDS_FIXED);
    unsigned long long number;
    pid_t pid;
    if (strcmp(line, "forks") == 0) {
        if (count != 1 || parse_number(fields[0], ULLONG_MAX, &number) != 0) return complain("forks needs one number", copy);
        fork_threshold = number;
        /* Counted from now: a burst right after this line is not missed. */
        forks_told = number > 0 ? forks_since_boot() : 0;
    } else if (strcmp(line, "drop") == 0) {
        if (count != 1 || parse_number(fields[0], ULLONG_MAX, &number) != 0) return complain("drop needs one number of bytes", copy);
        drop_bytes = number;
        last_available = 0;
    } else if (strcmp(line, "watch") == 0) {
        if (count != 2 || parse_pid(fields[0], &pid) != 0 || parse_number(fields[1], ULLONG_MAX, &number) != 0)
            return complain("watch needs PID START", copy);
        watch(pid, number);
    } else if (strcmp(line, "unwatch") == 0) {
        if (count != 1 || parse_pid(fields[0], &pid) != 0) return complain("unwatch needs one PID", copy);
        ssize_t i = find_watch(pid);
        if (i >= 0) remove_watch((size_t)i);
    } else if (strcmp(line, "forget") == 0) {
        if (count != 1) return complain("forget needs one KEY", copy);
        ssize_t i = find_group(fields[0]);
        if (i >= 0) {
            free_group(&groups[i]);
            groups[i] = groups[--group_count];
        }
    } else if (strcmp(line, "sync") == 0) {
        if (count != 1 || strlen(fields[0]) >= TOKEN_MAX) return complain("sync needs one short TOKEN", copy);
        snprintf(sync_token, sizeof sync_token, "%s", fields[0]);
        sync_pending = 1;
    } else {
        complain("unknown command", copy);
    }
}

/* Read what stdin holds and act on each whole line; returns 0 at its end (the daemon is gone). */
static int read_lines(void) {
    static char buffer[LINE_MAX_BYTES + 1];
    static size_t used = 0;
    /* Skipping the rest of a line that was too long. */
    static int skipping = 0;
    ssize_t n = read(STDIN_FILENO, buffer + used, LINE_MAX_BYTES - used);
    if (n < 0) return errno == EINTR || errno == EAGAIN;
    if (n == 0) return 0;
    used += (size_t)n;
    size_t start = 0;
    for (char *newline; (newline = memchr(buffer + start, '\n', used - start)) != NULL;) {
        *newline = '\0';
        if (skipping) skipping = 0;
        else {
            line_number++;
            command(buffer + start);
        }
        start = (size_t)(newline - buffer) + 1;
    }
    memmove(buffer, buffer + start, used - start);
    used -= start;
    if (used == LINE_MAX_BYTES) {
        if (!skipping) {
            line_number++;
            buffer[used] = '\0';
            complain("longer than 64 KiB, skipped", buffer);
            skipping = 1;
        }
        used = 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--signal-probe") == 0) use_pidfd = 0;
        else {
            fprintf(stderr, "selfheal-sentinel: unknown option %s\nusage: selfheal-sentinel [--signal-probe]\n", argv[i]);
            return 2;
        }
    }
    /* A closed stdout is an error from write(), not a signal that ends the sentinel unannounced. */
    signal(SIGPIPE, SIG_IGN);
    page_size = sysconf(_SC_PAGESIZE);
    /* Room for a pidfd per adopted program: the soft limit on open files raised to the hard one. */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur / HELD_STATM_SHARE < held_statm_max) held_statm_max = files.rlim_cur / HELD_STATM_SHARE;
    read_buffer_size = INITIAL_READ_BYTES;
    read_buffer = grow(NULL, 0, read_buffer_size);
    stat_fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    meminfo_fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
    if (use_pidfd) {
        int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
        if (self < 0 && errno == ENOSYS) use_pidfd = 0;
        if (self >= 0) close(self);
    }
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (epoll_fd < 0 || timer_fd < 0) {
        perror("selfheal-sentinel: epoll or timerfd");
        return 1;
    }
    struct epoll_event in = {.events = EPOLLIN, .data.u64 = TAG_STDIN};
    struct epoll_event tick = {.events = EPOLLIN, .data.u64 = TAG_TIMER};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, STDIN_FILENO, &in) != 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &tick) != 0) {
        perror("selfheal-sentinel: watching stdin");
        return 1;
    }
    tell("ready %s\n", use_pidfd ? "pidfd" : "signal");
    for (;;) {
        struct epoll_event events[EVENTS_AT_ONCE];
        int n = epoll_wait(epoll_fd, events, EVENTS_AT_ONCE, -1);
        if (n < 0 && errno != EINTR) return 1;
        for (int i = 0; i < n; i++) {
            uint64_t tag = events[i].data.u64;
            if (tag == TAG_STDIN) {
                if (!read_lines()) return 0;
            } else if (tag == TAG_TIMER) {
                uint64_t expirations;
                if (read(timer_fd, &expirations, sizeof expirations) > 0) look();
            } else {
                pidfd_ready((pid_t)tag);
            }
        }
        /* A sync with nothing to look at is answered at once. */
        if (sync_pending && !looks_wanted()) {
            sync_pending = 0;
            tell("synced %s\n", sync_token);
        }
        arm_timer();
    }
}
