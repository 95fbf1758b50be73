// The termination signals' handler. It may interrupt any code on any thread, so it only stores
// an atomic and writes one byte; Swift reads the pipe and cancels the build.
#define _GNU_SOURCE
#include "CSwbpfProcess.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_int first_signal;
static int wake_read_end = -1;
static int wake_write_end = -1;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void on_termination_signal(int number) {
    int saved = errno;
    int none = 0;
    atomic_compare_exchange_strong(&first_signal, &none, number);
    unsigned char byte = (unsigned char)number;
    // Non-blocking: when the pipe is full, a wake-up is already waiting.
    ssize_t written = write(wake_write_end, &byte, 1);
    (void)written;
    errno = saved;
}

static void install(void) {
    // A closed reader (`swbpf build | head -1`) must not kill the build: writes fail with EPIPE.
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    sigaction(SIGPIPE, &ignore, NULL);

    int ends[2];
    if (pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return;
    wake_read_end = ends[0];
    wake_write_end = ends[1];
    const int numbers[] = {SIGINT, SIGTERM, SIGHUP};
    sigset_t caught;
    sigemptyset(&caught);
    for (unsigned i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        struct sigaction current;
        // Ignored on entry means the launcher asked for that (nohup, `cmd &` in a script).
        if (sigaction(numbers[i], NULL, &current) == 0 && current.sa_handler == SIG_IGN) continue;
        struct sigaction action = {.sa_handler = on_termination_signal, .sa_flags = SA_RESTART};
        sigemptyset(&action.sa_mask);
        if (sigaction(numbers[i], &action, NULL) == 0) sigaddset(&caught, numbers[i]);
    }
    // A launcher may have left them blocked (signal masks survive execve); a signal already
    // pending is handled right here. Threads started later inherit this mask.
    pthread_sigmask(SIG_UNBLOCK, &caught, NULL);
}

int swbpf_catch_termination_signals(void) {
    pthread_once(&installed, install);
    return wake_read_end;
}

int swbpf_first_termination_signal(void) { return atomic_load(&first_signal); }
