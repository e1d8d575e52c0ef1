/*
 * selfheal-keeper: the parent of one program that selfheal starts, so that the
 * program's exact end (exit code, signal, core dump) is known even when the
 * daemon is not running at that moment (killed, upgraded, crashed).
 *
 *   selfheal-keeper DIR        (DIR absolute; the job comes on stdin)
 *
 * The daemon starts a keeper ahead of need, and when a program is to start it
 * writes the job to the keeper's stdin: NUL-terminated fields
 *
 *   "selfheal-job 2", LENGTH, TAG, CWD, ENV COUNT, ENV..., ARG COUNT, ARG...
 *
 * where LENGTH is the byte count of what follows it (a job of the earlier
 * format, "selfheal-job 1" with no LENGTH, is read to the end of stdin: a
 * daemon running since before an upgrade sends it). The keeper acts as soon
 * as the job is whole, without waiting for the end of stdin: the daemon's
 * close of the pipe comes only once it has told everyone of the crash that
 * this start answers (a keeper that reads end of file without a job exits
 * quietly: the daemon went away, or did not need it). Everything that does
 * not depend on the job (its own identity, the boot, the subreaper flag) is
 * done while it waits. The keeper runs ARG... (no shell, PATH
 * searched in ENV) in CWD with exactly ENV, its standard streams on
 * /dev/null, as the leader of a session of its own (as selfheal has always
 * started programs), and stays its parent. It
 * writes the program's state to DIR/<keeper pid>-<keeper start time>.keeper,
 * always atomically (a temporary file in DIR/.writing/ renamed over it), so
 * that any daemon, now or later, reads either the old state or the new one;
 * the temporary file lives in a subfolder so that the daemon's watch on DIR
 * wakes once per write (the rename), not for its creation and each write:
 *
 *   selfheal-keeper 1
 *   boot <boot id>
 *   tag <TAG>
 *   keeper <pid> <start ticks>
 *   program <pid> <start ticks>
 *   followed <pid>                          (the program forked away from this pid)
 *   end exit <code> <core 0|1> <epoch ms>   (or: end signal <number> <core 0|1> <epoch ms>)
 *
 * On stdout it reports once "started <pid> <start ticks> <record file name>"
 * or "error <errno> <step: job|chdir|exec|fork> <message>", and closes it.
 *
 * It is a child subreaper: what the program leaves behind when it exits is
 * re-parented to the keeper. When the program exits with code 0 while such a
 * process lives on (it forked away), the oldest of them becomes the program
 * (a "followed" line), and its own end is known in turn. Otherwise the keeper
 * records the end and exits at once; anything left is re-parented further up.
 *
 * SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to the keeper are
 * passed on to the program. The program does not die with its keeper (no
 * PR_SET_PDEATHSIG): a killed keeper only costs the exact exit status, and
 * the daemon then watches the program by PID as any adopted one.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RECORD_VERSION 1
#define RECORD_MAX 1024
#define PATH_MAX_LEN 4096
#define BOOT_ID_LEN 64
/* Where records are written before they are renamed into DIR (a subfolder: DIR's watcher sees only the rename). */
#define WRITING_DIR ".writing"

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define FORWARDED_COUNT (sizeof forwarded / sizeof forwarded[0])

/* The program's pid; 0 once its end is being recorded (nothing is forwarded to a reaped pid). */
static volatile sig_atomic_t program_pid = 0;

static const char *dir;
static const char *tag;
static char boot_id[BOOT_ID_LEN] = "";
static pid_t keeper_pid;
static unsigned long long keeper_start;
static char record_path[PATH_MAX_LEN];
static char temp_path[PATH_MAX_LEN];

/* Pass a polite signal on to the program. */
static void forward(int signo) {
    pid_t pid = program_pid;
    if (pid > 0) kill(pid, signo);
}

/* What the keeper needs of /proc/PID/stat: state, parent and start time (clock ticks since boot). */
struct stat_line {
    char state;
    pid_t ppid;
    unsigned long long start;
};

/* Read a process's stat line; 0 on success, -1 when it is gone or the line is odd. */
static int read_stat(pid_t pid, struct stat_line *out) {
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
    out->state = *p;
    out->ppid = 0;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL) return -1;
        p++;
        if (field + 1 == 4) out->ppid = (pid_t)strtol(p, NULL, 10);
    }
    out->start = strtoull(p, NULL, 10);
    return 0;
}

/* A process's start time, or 0 when it cannot be read. */
static unsigned long long start_ticks(pid_t pid) {
    struct stat_line stat;
    return read_stat(pid, &stat) == 0 ? stat.start : 0;
}

static void read_boot_id(void) {
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, boot_id, sizeof boot_id - 1);
    close(fd);
    if (n <= 0) n = 0;
    boot_id[n] = '\0';
    char *newline = strchr(boot_id, '\n');
    if (newline != NULL) *newline = '\0';
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Replace the record atomically: write a temporary file beside it, then rename it over the record. */
static int write_record(const char *text, size_t length) {
    int fd = open(temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
        /* The subfolder went away meanwhile (someone cleaned the folder): make it again. */
        char writing[PATH_MAX_LEN];
        snprintf(writing, sizeof writing, "%s/" WRITING_DIR, dir);
        mkdir(writing, 0700);
        fd = open(temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    }
    if (fd < 0) return -1;
    size_t done = 0;
    while (done < length) {
        ssize_t n = write(fd, text + done, length - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            close(fd);
            unlink(temp_path);
            return -1;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0 || rename(temp_path, record_path) != 0) {
        unlink(temp_path);
        return -1;
    }
    return 0;
}

/* The record's text for the program as it stands; end_line is "" while it runs. */
static void record(pid_t pid, unsigned long long start, pid_t followed_from, const char *end_line) {
    char text[RECORD_MAX];
    int length = snprintf(text, sizeof text, "selfheal-keeper %d\nboot %s\ntag %s\nkeeper %d %llu\nprogram %d %llu\n",
                          RECORD_VERSION, boot_id, tag, (int)keeper_pid, keeper_start, (int)pid, start);
    if (followed_from > 0) length += snprintf(text + length, sizeof text - (size_t)length, "followed %d\n", (int)followed_from);
    length += snprintf(text + length, sizeof text - (size_t)length, "%s", end_line);
    if (length >= (int)sizeof text) length = (int)sizeof text - 1;
    if (write_record(text, (size_t)length) != 0) {
        fprintf(stderr, "selfheal-keeper: cannot write %s: %s\n", record_path, strerror(errno));
    }
}

/* The oldest live child of the keeper other than `except`, found among /proc's processes; 0 when none. */
static pid_t oldest_other_child(pid_t except, unsigned long long *start_out) {
    DIR *proc = opendir("/proc");
    if (proc == NULL) return 0;
    pid_t best = 0;
    unsigned long long best_start = 0;
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        pid_t pid = (pid_t)atoi(entry->d_name);
        struct stat_line stat;
        if (pid == except || read_stat(pid, &stat) != 0 || stat.ppid != keeper_pid) continue;
        if (stat.state == 'Z' || stat.state == 'X') continue;
        if (best == 0 || stat.start < best_start || (stat.start == best_start && pid < best)) {
            best = pid;
            best_start = stat.start;
        }
    }
    closedir(proc);
    *start_out = best_start;
    return best;
}

/* Report on stdout (the daemon reads it), then let go of it. */
static void report(const char *line) {
    ssize_t ignored = write(STDOUT_FILENO, line, strlen(line));
    (void)ignored;
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, STDOUT_FILENO);
        close(devnull);
    }
}

/* Report that the program could not start, and at which step, then exit. */
static int fail(int error, const char *step) {
    char line[256];
    snprintf(line, sizeof line, "error %d %s %s\n", error, step, strerror(error));
    report(line);
    return 1;
}

/* The job: its fields, NUL-terminated, as read from stdin. */
struct job {
    char *tag;
    char *cwd;
    char **env;
    char **argv;
};

#define JOB_MAX_BYTES (8 * 1024 * 1024)
#define JOB_MAGIC "selfheal-job 2"
/* The earlier format, with no LENGTH: the job ends with stdin. A daemon that runs since before an upgrade
   still sends it to the keeper installed beside it. */
#define JOB_MAGIC_UNTIL_EOF "selfheal-job 1"
/* The body's length of a job that ends with stdin. */
#define UNTIL_EOF ((size_t)-1)
/* The header: the magic and LENGTH, each NUL-terminated; LENGTH has at most 10 digits. */
#define JOB_HEADER_MAX (sizeof JOB_MAGIC + 11)

/* The byte count the header announces once the header is whole: 0 and *header_length set; 1 while it is not
   whole yet; -1 when it is malformed. */
static int job_header(const char *buffer, size_t used, size_t *header_length, size_t *body_length) {
    const char *magic_end = memchr(buffer, '\0', used);
    if (magic_end == NULL) return used > JOB_HEADER_MAX ? -1 : 1;
    if (strcmp(buffer, JOB_MAGIC_UNTIL_EOF) == 0) {
        *header_length = (size_t)(magic_end - buffer) + 1;
        *body_length = UNTIL_EOF;
        return 0;
    }
    if (strcmp(buffer, JOB_MAGIC) != 0) return -1;
    const char *length_text = magic_end + 1;
    size_t rest = used - (size_t)(length_text - buffer);
    const char *length_end = memchr(length_text, '\0', rest);
    if (length_end == NULL) return used > JOB_HEADER_MAX ? -1 : 1;
    char *parsed;
    unsigned long long length = strtoull(length_text, &parsed, 10);
    if (length_text[0] < '0' || length_text[0] > '9' || parsed != length_end || length > JOB_MAX_BYTES) return -1;
    *header_length = (size_t)(length_end - buffer) + 1;
    *body_length = (size_t)length;
    return 0;
}

/* Read stdin until the job is whole (never waiting for its end); the job's body (after the header), or NULL with
   *status -1 when stdin ended before anything came, -2 when it is malformed, too large or ends early. */
static char *read_job_body(size_t *length, int *status) {
    size_t size = 4096, used = 0, header_length = 0, body_length = 0;
    int header = 1;
    char *buffer = malloc(size);
    *status = -2;
    if (buffer == NULL) return NULL;
    for (;;) {
        int until_eof = header == 0 && body_length == UNTIL_EOF;
        if (header == 0 && !until_eof && used >= header_length + body_length) break;
        if (until_eof && used >= JOB_MAX_BYTES) break;
        size_t wanted = header == 0 && !until_eof ? header_length + body_length : used + 1;
        if (wanted > size) {
            while (size < wanted) size *= 2;
            char *bigger = realloc(buffer, size);
            if (bigger == NULL) break;
            buffer = bigger;
        }
        /* Once its length is known, never read past the job: what follows it (nothing, from the daemon) is not ours. */
        size_t room = header == 0 && !until_eof ? header_length + body_length - used : size - used;
        ssize_t n = read(STDIN_FILENO, buffer + used, room);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        if (n == 0) {
            if (used == 0) *status = -1;
            if (until_eof) body_length = used - header_length;
            break;
        }
        used += (size_t)n;
        if (header == 1) header = job_header(buffer, used, &header_length, &body_length);
        if (header < 0) break;
    }
    if (header != 0 || used != header_length + body_length) {
        free(buffer);
        return NULL;
    }
    memmove(buffer, buffer + header_length, body_length);
    *length = body_length;
    *status = 0;
    return buffer;
}

/* The next NUL-terminated field of buffer[*at..length), or NULL when none is left whole. */
static char *next_field(char *buffer, size_t length, size_t *at) {
    if (*at >= length) return NULL;
    char *field = buffer + *at;
    char *end = memchr(field, '\0', length - *at);
    if (end == NULL) return NULL;
    *at = (size_t)(end - buffer) + 1;
    return field;
}

/* COUNT, then that many fields, as a NULL-terminated array; NULL when malformed. */
static char **field_list(char *buffer, size_t length, size_t *at) {
    char *count_text = next_field(buffer, length, at);
    if (count_text == NULL) return NULL;
    char *rest;
    long count = strtol(count_text, &rest, 10);
    if (*count_text == '\0' || *rest != '\0' || count < 0 || count > 100000) return NULL;
    char **list = calloc((size_t)count + 1, sizeof *list);
    if (list == NULL) return NULL;
    for (long i = 0; i < count; i++) {
        list[i] = next_field(buffer, length, at);
        if (list[i] == NULL) {
            free(list);
            return NULL;
        }
    }
    return list;
}

/* Parse the job; 0 when it is whole, -1 when there is none (end of file at once), -2 when malformed. */
static int read_job(struct job *job) {
    size_t length = 0;
    int status;
    char *buffer = read_job_body(&length, &status);
    if (buffer == NULL) return status;
    size_t at = 0;
    job->tag = next_field(buffer, length, &at);
    job->cwd = next_field(buffer, length, &at);
    if (job->tag == NULL || job->cwd == NULL || job->tag[0] == '\0' || strpbrk(job->tag, " \t\r\n") != NULL) return -2;
    job->env = field_list(buffer, length, &at);
    if (job->env == NULL) return -2;
    job->argv = field_list(buffer, length, &at);
    if (job->argv == NULL || job->argv[0] == NULL || at != length) return -2;
    return 0;
}

int main(int argc, char **argv) {
    /* DIR is absolute: the keeper leaves its starting folder once the program runs. */
    if (argc != 2 || argv[1][0] != '/') {
        fprintf(stderr, "usage: selfheal-keeper /ABSOLUTE/DIR   (the job comes on stdin; see keeper.c)\n");
        return 2;
    }
    dir = argv[1];
    /* While it waits for the job: who it is, the boot, where its record goes. */
    keeper_pid = getpid();
    keeper_start = start_ticks(keeper_pid);
    read_boot_id();
    int named = snprintf(record_path, sizeof record_path, "%s/%d-%llu.keeper", dir, (int)keeper_pid, keeper_start) < (int)sizeof record_path &&
                snprintf(temp_path, sizeof temp_path, "%s/" WRITING_DIR "/%d-%llu.keeper.tmp", dir, (int)keeper_pid, keeper_start) < (int)sizeof temp_path;
    if (named) {
        char writing[PATH_MAX_LEN];
        snprintf(writing, sizeof writing, "%s/" WRITING_DIR, dir);
        mkdir(writing, 0700); /* EEXIST is the usual answer; any other failure shows when the record is written */
    }
    /* What the program leaves behind comes to us, not to init. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    struct job job;
    int got = read_job(&job);
    if (got == -1) return 0; /* no job: the daemon went away or did not need this keeper */
    if (got != 0) return fail(EINVAL, "job");
    if (!named) return fail(ENAMETOOLONG, "job");
    tag = job.tag;
    /* stdin has served: the daemon's end of it may close whenever it likes. */
    int devnull_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull_in >= 0) {
        dup2(devnull_in, STDIN_FILENO);
        close(devnull_in);
    }

    signal(SIGPIPE, SIG_IGN);
    struct sigaction pass_on;
    memset(&pass_on, 0, sizeof pass_on);
    pass_on.sa_handler = forward;
    pass_on.sa_flags = SA_RESTART;
    sigemptyset(&pass_on.sa_mask);
    for (size_t i = 0; i < FORWARDED_COUNT; i++) sigaction(forwarded[i], &pass_on, NULL);

    /* A close-on-exec pipe tells whether the start worked: end of file means exec did, {step, errno} that it did not. */
    int exec_pipe[2];
    if (pipe2(exec_pipe, O_CLOEXEC) != 0) return fail(errno, "fork");
    pid_t pid = fork();
    if (pid < 0) return fail(errno, "fork");
    if (pid == 0) {
        close(exec_pipe[0]);
        /* Its standard streams are /dev/null, as for a program the daemon starts itself: never the keeper's
           job or report pipes (its output would race the report and could pass for it). */
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            for (int fd = 0; fd <= 2; fd++) dup2(devnull, fd);
            if (devnull > 2) close(devnull);
        } else {
            close(STDIN_FILENO);
            close(STDOUT_FILENO);
        }
        /* The program gets the dispositions a fresh process has, its folder, and a session of its own. */
        for (size_t i = 0; i < FORWARDED_COUNT; i++) signal(forwarded[i], SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int failure[2] = {0, 0};
        if (chdir(job.cwd) != 0) {
            failure[1] = errno;
        } else {
            setsid();
            /* PATH is searched in the program's environment, as Node.js (libuv) does for a direct child. */
            environ = job.env;
            execvp(job.argv[0], job.argv);
            failure[0] = 1;
            failure[1] = errno;
        }
        ssize_t ignored = write(exec_pipe[1], failure, sizeof failure);
        (void)ignored;
        _exit(127);
    }
    close(exec_pipe[1]);
    int failure[2] = {0, 0};
    ssize_t got_failure;
    do {
        got_failure = read(exec_pipe[0], failure, sizeof failure);
    } while (got_failure < 0 && errno == EINTR);
    close(exec_pipe[0]);
    if (got_failure == (ssize_t)sizeof failure) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        return fail(failure[1], failure[0] ? "exec" : "chdir");
    }
    /* The keeper holds no folder of the user's (it would keep a removable disk busy). */
    if (chdir("/") != 0) {
        /* harmless: the keeper stays where it was started */
    }

    unsigned long long start = start_ticks(pid);
    pid_t followed_from = 0;
    program_pid = pid;
    record(pid, start, 0, "");
    char line[PATH_MAX_LEN + 64];
    snprintf(line, sizeof line, "started %d %llu %s\n", (int)pid, start, strrchr(record_path, '/') + 1);
    report(line);

    for (;;) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        /* Look at an ended child without reaping it: its record is written while it still exists as a zombie. */
        if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) != 0) {
            if (errno == EINTR) continue;
            return 0; /* no children left */
        }
        pid_t ended = info.si_pid;
        if (ended != pid) {
            /* Something the program left behind, which we are not following: reap it. */
            waitpid(ended, NULL, 0);
            continue;
        }
        if (info.si_code == CLD_EXITED && info.si_status == 0) {
            unsigned long long next_start = 0;
            pid_t next = oldest_other_child(pid, &next_start);
            if (next > 0) {
                /* It forked away and exited 0: what it left running is the program now. */
                program_pid = next;
                followed_from = pid;
                record(next, next_start, followed_from, "");
                waitpid(pid, NULL, 0);
                pid = next;
                start = next_start;
                continue;
            }
        }
        program_pid = 0;
        char end_line[128];
        int core = info.si_code == CLD_DUMPED;
        if (info.si_code == CLD_EXITED) {
            snprintf(end_line, sizeof end_line, "end exit %d 0 %lld\n", info.si_status, now_ms());
        } else {
            snprintf(end_line, sizeof end_line, "end signal %d %d %lld\n", info.si_status, core, now_ms());
        }
        record(pid, start, followed_from, end_line);
        waitpid(pid, NULL, 0);
        return 0;
    }
}
