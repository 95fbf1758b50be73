// Starting a child. Between fork and execve the child is a copy of a multithreaded process whose
// other threads are gone (and may have held locks), so it makes system calls only: no malloc, no
// Swift. Everything it needs (argv, envp, the pipes) is prepared by the parent before fork.
#define _GNU_SOURCE
#include "CSwbpfProcess.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/// What the child writes to the report pipe when it cannot exec. The pipe is close-on-exec, so
/// a successful execve closes it with nothing written.
struct report {
    int32_t step;
    int32_t error_number;
};

static _Noreturn void fail_in_child(int report_fd, int step) {
    struct report report = {step, errno};
    // One write of 8 bytes to a pipe is atomic; if it fails there is no one left to tell.
    ssize_t written = write(report_fd, &report, sizeof report);
    (void)written;
    _exit(127);
}

/// Marks every descriptor from 3 up close-on-exec: whatever another thread opened without
/// O_CLOEXEC while this fork happened must not leak into the tool.
static void close_others_on_exec(void) {
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    // Kernels before 5.11 lack the flag: one fcntl per possible descriptor.
    struct rlimit limit;
    long highest = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY ? (long)limit.rlim_cur : 65536;
    for (long fd = 3; fd < highest; fd++) fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

/// swbpf ignores SIGPIPE and catches SIGINT/SIGTERM/SIGHUP; a child must start as a shell would
/// start it. Handlers are reset before the mask is emptied, so none of swbpf's runs here. The raw
/// system call, because glibc's sigaction refuses its own signals (32 and 33), and an ignored one
/// would stay ignored in the child. An all-zero kernel sigaction is SIG_DFL whatever the
/// architecture's layout; SIGKILL and SIGSTOP fail harmlessly.
static void reset_signals(void) {
    static const unsigned long default_action[8];
    for (int number = 1; number < NSIG; number++)
        syscall(SYS_rt_sigaction, number, default_action, NULL, (NSIG - 1) / 8);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void reap(pid_t pid) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
}

static _Noreturn void run_child(const char *path, char *const argv[], char *const envp[], const char *directory,
                                int stdout_write, int stderr_write, int report_fd, pid_t parent) {
    // Its own process group: cancelling signals the tool and everything it started, and a
    // terminal's Ctrl-C reaches swbpf alone, which then stops its tools itself.
    if (setpgid(0, 0) != 0) fail_in_child(report_fd, SWBPF_SPAWN_PROCESS_GROUP);
    // Die with swbpf, even when it is SIGKILLed. The kernel ties this to the thread that forked,
    // which stays until the child is reaped. If swbpf died before the prctl, the child has
    // already been handed to another parent and must not go on.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail_in_child(report_fd, SWBPF_SPAWN_PARENT_DEATH);
    if (getppid() != parent) _exit(127);
    if (chdir(directory) != 0) fail_in_child(report_fd, SWBPF_SPAWN_DIRECTORY);
    // The pipes are above 2 (see the parent), so these dup2 calls cannot overwrite one another's
    // source, whatever number /dev/null gets.
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(stdout_write, 1) < 0 || dup2(stderr_write, 2) < 0)
        fail_in_child(report_fd, SWBPF_SPAWN_STANDARD_STREAMS);
    close_others_on_exec();
    reset_signals();
    execve(path, argv, envp);
    fail_in_child(report_fd, SWBPF_SPAWN_EXEC);
}

/// Moves a descriptor above the standard streams (swbpf may have been started with 0, 1 or 2
/// closed, and then a pipe end could land there and be clobbered by the child's dup2).
static int above_standard_streams(int fd) {
    if (fd > 2) return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return moved;
}

static int make_pipe(int ends[2]) {
    if (pipe2(ends, O_CLOEXEC) != 0) return -1;
    ends[0] = above_standard_streams(ends[0]);
    ends[1] = above_standard_streams(ends[1]);
    return ends[0] < 0 || ends[1] < 0 ? -1 : 0;
}

static void close_all(int *fds, int count) {
    for (int i = 0; i < count; i++) {
        if (fds[i] >= 0) close(fds[i]);
        fds[i] = -1;
    }
}

/// Waits for the child's execve: 0 once it succeeded (the report pipe closed empty), else -1 with
/// the step and error the child reported, the child reaped. Closes `report_fd`.
static int await_exec(int report_fd, pid_t pid, int *failed_step, int *error_number) {
    struct report report;
    ssize_t n;
    do n = read(report_fd, &report, sizeof report);
    while (n < 0 && errno == EINTR);
    close(report_fd);
    if (n == 0) return 0;
    reap(pid);
    *failed_step = n == (ssize_t)sizeof report ? report.step : SWBPF_SPAWN_EXEC;
    *error_number = n == (ssize_t)sizeof report ? report.error_number : EIO;
    return -1;
}

int swbpf_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                struct swbpf_child *child, int *failed_step, int *error_number) {
    // out[0..1], err[0..1], report[0..1]
    int fds[6] = {-1, -1, -1, -1, -1, -1};
    if (make_pipe(&fds[0]) != 0 || make_pipe(&fds[2]) != 0 || make_pipe(&fds[4]) != 0) {
        *failed_step = SWBPF_SPAWN_PIPE;
        *error_number = errno;
        close_all(fds, 6);
        return -1;
    }
    // No handler of swbpf's may run in the child before it has reset them all.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) run_child(path, argv, envp, directory, fds[1], fds[3], fds[5], parent);
    int fork_error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    int write_ends[3] = {fds[1], fds[3], fds[5]};
    close_all(write_ends, 3);
    int read_ends[2] = {fds[0], fds[2]};
    if (pid < 0) {
        *failed_step = SWBPF_SPAWN_FORK;
        *error_number = fork_error;
        close_all(read_ends, 2);
        close(fds[4]);
        return -1;
    }

    if (await_exec(fds[4], pid, failed_step, error_number) != 0) {
        close_all(read_ends, 2);
        return -1;
    }
    // The child is not reaped yet, so its pid cannot have been reused.
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        *failed_step = SWBPF_SPAWN_PIDFD;
        *error_number = errno;
        kill(-pid, SIGKILL);
        reap(pid);
        close_all(read_ends, 2);
        return -1;
    }
    child->pid = pid;
    child->pidfd = pidfd;
    child->stdout_fd = fds[0];
    child->stderr_fd = fds[2];
    return 0;
}

int swbpf_open_event(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

static _Noreturn void run_app(const char *path, char *const argv[], char *const envp[], int death_signal, int report_fd,
                              pid_t parent) {
    // The app's own stop signal when swbpf dies, even by SIGKILL: a template detaches what it
    // attached (a tc hook outlives its process otherwise) and exits.
    if (prctl(PR_SET_PDEATHSIG, death_signal) != 0) fail_in_child(report_fd, SWBPF_SPAWN_PARENT_DEATH);
    if (getppid() != parent) _exit(127);
    close_others_on_exec();
    reset_signals();
    execve(path, argv, envp);
    fail_in_child(report_fd, SWBPF_SPAWN_EXEC);
}

int swbpf_spawn_app(const char *path, char *const argv[], char *const envp[], int death_signal, pid_t *pid_out,
                    int *failed_step, int *error_number) {
    int report[2];
    if (make_pipe(report) != 0) {
        *failed_step = SWBPF_SPAWN_PIPE;
        *error_number = errno;
        return -1;
    }
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) run_app(path, argv, envp, death_signal, report[1], parent);
    int fork_error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        *failed_step = SWBPF_SPAWN_FORK;
        *error_number = fork_error;
        return -1;
    }
    if (await_exec(report[0], pid, failed_step, error_number) != 0) return -1;
    *pid_out = pid;
    return 0;
}
