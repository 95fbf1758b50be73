// What swbpf cannot do safely in Swift: the child's side of fork (only async-signal-safe calls
// may run there) and a signal handler. Everything else about processes is in
// SwbpfBasics/ProcessRunner.swift and Interrupts.swift.
#ifndef CSWBPF_PROCESS_H
#define CSWBPF_PROCESS_H

#include <sys/types.h>

/// The step of starting a child that failed, so that the message can name it.
enum swbpf_spawn_step {
    SWBPF_SPAWN_PIPE = 1,          // creating the pipes (parent)
    SWBPF_SPAWN_FORK,              // fork (parent)
    SWBPF_SPAWN_PIDFD,             // pidfd_open (parent)
    SWBPF_SPAWN_PROCESS_GROUP,     // setpgid (child)
    SWBPF_SPAWN_PARENT_DEATH,      // prctl(PR_SET_PDEATHSIG) (child)
    SWBPF_SPAWN_DIRECTORY,         // chdir to the working directory (child)
    SWBPF_SPAWN_STANDARD_STREAMS,  // /dev/null and the pipes on 0, 1, 2 (child)
    SWBPF_SPAWN_EXEC,              // execve (child)
};

struct swbpf_child {
    pid_t pid;
    /// Readable once the child has exited (it stays unreaped until the caller waits for it).
    int pidfd;
    /// The read ends of the child's standard output and error.
    int stdout_fd;
    int stderr_fd;
};

/// Starts `path` with `argv` and `envp` (NULL-terminated) in `directory`: in its own process group,
/// killed when the calling thread exits (PR_SET_PDEATHSIG), stdin from /dev/null, stdout and
/// stderr to new pipes, every signal at its default disposition and none blocked, no other
/// descriptor inherited. The calling thread must outlive the child. Returns 0 and fills `child`,
/// or -1 with `*failed_step` and `*error_number` set (nothing is left open or running then).
int swbpf_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                struct swbpf_child *child, int *failed_step, int *error_number);

/// Starts the app `swbpf run` runs: sharing swbpf's terminal, process group and standard streams,
/// every signal at its default disposition and none blocked, no other descriptor inherited, and
/// sent `death_signal` when the calling thread exits (PR_SET_PDEATHSIG), so that the app never
/// outlives swbpf, even a SIGKILLed one. The calling thread must outlive the app. Returns 0 and
/// sets `*pid`, or -1 with `*failed_step` and `*error_number` set.
int swbpf_spawn_app(const char *path, char *const argv[], char *const envp[], int death_signal, pid_t *pid,
                    int *failed_step, int *error_number);

/// A non-blocking, close-on-exec eventfd (which the Glibc module does not export), or -1 with errno.
int swbpf_open_event(void);

/// Catches SIGINT, SIGTERM and SIGHUP (except those inherited as ignored, as nohup and `&` ask):
/// the first one received is recorded and each writes a byte to a pipe. Ignores SIGPIPE. Safe to
/// call again; returns the pipe's non-blocking read end, or -1 if it could not be created.
int swbpf_catch_termination_signals(void);

/// The first of SIGINT, SIGTERM and SIGHUP received since `swbpf_catch_termination_signals`, or 0.
int swbpf_first_termination_signal(void);

#endif
