#!/usr/bin/env python3
"""Generate a benchmark project of libbpf + CO-RE apps for the swbpf benchmark.

  gen-project.py --kind bootstrap --apps 14 DIR
      Laid out like libbpf-bootstrap's examples/c: every app is NAME.bpf.c +
      NAME.c (+ NAME.h for some), each self-contained; common.h is shared by
      the kernel and user parts of several apps.  Makefile = Makefile.bootstrap.

  gen-project.py --kind shared --apps 50 DIR
      Like libbpf-tools: the same kinds of apps, but every app also links the
      shared helpers trace_helpers.c, syscall_names.c and util.c (each with a
      header), declared in swbpf.toml.  Makefile = Makefile.shared.

  gen-project.py --kind trees --trees SOURCES --apps 5 DIR
      A tutorial checkout: DIR is its top (a git repository) with the
      submodules third_party/libbpf, third_party/bpftool and
      third_party/vmlinux/x86 copied from SOURCES (a folder holding libbpf/,
      bpftool/ and vmlinux.h/ trees, as /work/shared/sources does), and one
      lesson in DIR/lesson1 with bootstrap-style apps built against them.
      Makefile = Makefile.trees.

The apps are real, small, warning-free tracepoint programs built from five
parametrised templates (per-process counter, ring buffer, per-CPU syscall
counter, latency histogram, process lifetime).  They vary in name, syscall,
map type and map size.  Every user part uses its skeleton (open or
open_and_load, load, attach, destroy) and runs for argv[1] seconds
(default 1).  Run as root to load them.
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Syscalls with both sys_enter_* and sys_exit_* tracepoints on x86_64.
SYSCALLS = [
    "openat", "read", "write", "close", "newfstatat", "mmap", "futex",
    "ioctl", "lseek", "getdents64", "pread64", "clock_nanosleep", "brk",
    "munmap", "mprotect", "fcntl", "statx", "readlinkat", "faccessat2",
    "pipe2", "dup3", "wait4", "socket", "connect", "sendto", "recvfrom",
    "ppoll", "epoll_wait", "rt_sigaction", "getpid", "kill", "unlinkat",
]

HELPERS = ["trace_helpers", "syscall_names", "util"]

# --------------------------------------------------------------------------
# Shared header: included by both halves of the ringbuf and lathist apps.
COMMON_H = """\
/* common.h - definitions shared by kernel (.bpf.c) and user (.c) code.
 * Plain C types only: the kernel side sees vmlinux.h, the user side libc. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define BENCH_COMM_LEN 16
#define BENCH_MAX_SLOTS 27

struct bench_hist {
	unsigned int slots[BENCH_MAX_SLOTS];
	unsigned int errors;
};

/* floor(log2(v)), 0 for v == 0; branchy but loop-free for the verifier. */
static inline unsigned int bench_log2(unsigned long long v)
{
	unsigned int r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

#endif /* BENCH_COMMON_H */
"""

LICENSE_LINE = 'char LICENSE[] SEC("license") = "Dual BSD/GPL";\n'
# Globals (.rodata/.bss) use __u32/__u64: the skeleton copies their types
# into user space, where the kernel-only u32/u64 typedefs do not exist.

# --------------------------------------------------------------------------
# User-space helper functions.  In the shared kind they live in the helper
# sources (extern); in the bootstrap kind each app carries, as static
# functions, the ones it uses (libbpf-bootstrap examples are self-contained).
# name -> (helper file, prototype, body, helpers it needs)
FUNCS = {
    "bench_now_ns": ("util", "unsigned long long bench_now_ns(void)", """\
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
""", []),
    "bench_setup": ("util", "unsigned long long bench_setup(int argc, char **argv)", """\
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;

	if (secs < 0)
		secs = 0;
	libbpf_set_print(bench_libbpf_print);
	signal(SIGINT, bench_on_signal);
	signal(SIGTERM, bench_on_signal);
	return bench_now_ns() + (unsigned long long)(secs * 1e9);
}
""", ["bench_now_ns", "bench_libbpf_print", "bench_on_signal"]),
    "bench_running": ("util", "int bench_running(unsigned long long deadline)", """\
{
	return !bench_exiting && bench_now_ns() < deadline;
}
""", ["bench_now_ns"]),
    "bench_wait": ("util", "void bench_wait(unsigned long long deadline)", """\
{
	struct timespec step = { 0, 50 * 1000 * 1000 };

	while (!bench_exiting && bench_now_ns() < deadline)
		nanosleep(&step, NULL);
}
""", ["bench_now_ns"]),
    "bench_print_log2_hist": ("trace_helpers",
                              "void bench_print_log2_hist(const unsigned int *slots, int n, const char *unit)", """\
{
	unsigned long long lo, hi;
	int i, last = -1;

	for (i = 0; i < n; i++)
		if (slots[i])
			last = i;
	printf("%24s : count\\n", unit);
	for (i = 0; i <= last; i++) {
		lo = i ? 1ULL << i : 0;
		hi = (1ULL << (i + 1)) - 1;
		printf("%10llu -> %-10llu : %u\\n", lo, hi, slots[i]);
	}
}
""", []),
    "bench_syscall_name": ("syscall_names", "const char *bench_syscall_name(unsigned int id)", """\
{
	static const char *const names[] = {
		"read", "write", "open", "close", "stat", "fstat", "lstat",
		"poll", "lseek", "mmap", "mprotect", "munmap", "brk",
		"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl",
		"pread64", "pwrite64", "readv", "writev", "access", "pipe",
		"select", "sched_yield", "mremap", "msync", "mincore",
		"madvise", "shmget", "shmat", "shmctl", "dup", "dup2",
		"pause", "nanosleep", "getitimer", "alarm", "setitimer",
		"getpid", "sendfile", "socket", "connect", "accept", "sendto",
		"recvfrom", "sendmsg", "recvmsg", "shutdown", "bind",
		"listen", "getsockname", "getpeername", "socketpair",
		"setsockopt", "getsockopt", "clone", "fork", "vfork",
		"execve", "exit", "wait4", "kill", "uname",
	};

	if (id < sizeof(names) / sizeof(names[0]))
		return names[id];
	return NULL;
}
""", []),
}

# Private helpers of util (always static).
UTIL_PRIVATE = """\
static volatile sig_atomic_t bench_exiting;

static void bench_on_signal(int sig)
{
	(void)sig;
	bench_exiting = 1;
}

static int bench_libbpf_print(enum libbpf_print_level level, const char *fmt,
			      va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}
"""

USER_INCLUDES = """\
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
"""

# --------------------------------------------------------------------------
# App templates.  Placeholders: {name}, {NAME}, {sc}, {entries}, {maptype},
# {rb_bytes}.  `funcs` lists the user-space helpers the user part calls.
TEMPLATES = {}

TEMPLATES["count"] = dict(common=False, own_header=False, funcs=["bench_setup", "bench_wait"],
bpf="""\
// {name}: count sys_enter_{sc} per process in a {maptype_lc} map.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {{
	__uint(type, BPF_MAP_TYPE_{maptype});
	__uint(max_entries, {entries});
	__type(key, u32);
	__type(value, u64);
}} counts SEC(".maps");

const volatile __u32 target_tgid = 0;

SEC("tracepoint/syscalls/sys_enter_{sc}")
int count_{sc}(struct trace_event_raw_sys_enter *ctx)
{{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	u64 one = 1, *val;

	if (target_tgid && tgid != target_tgid)
		return 0;
	val = bpf_map_lookup_elem(&counts, &tgid);
	if (val)
		__sync_fetch_and_add(val, 1);
	else
		bpf_map_update_elem(&counts, &tgid, &one, BPF_NOEXIST);
	return 0;
}}
""",
user="""\
int main(int argc, char **argv)
{{
	struct {name}_bpf *skel;
	unsigned long long deadline, total = 0;
	__u32 key, next, *prev = NULL;
	__u64 val;
	int err, procs = 0;

	deadline = bench_setup(argc, argv);
	skel = {name}_bpf__open();
	if (!skel) {{
		fprintf(stderr, "{name}: failed to open BPF skeleton\\n");
		return 1;
	}}
	skel->rodata->target_tgid = argc > 2 ? (__u32)atoi(argv[2]) : 0;
	err = {name}_bpf__load(skel);
	if (err) {{
		fprintf(stderr, "{name}: failed to load BPF skeleton: %d\\n", err);
		goto cleanup;
	}}
	err = {name}_bpf__attach(skel);
	if (err) {{
		fprintf(stderr, "{name}: failed to attach: %d\\n", err);
		goto cleanup;
	}}
	bench_wait(deadline);
	while (!bpf_map__get_next_key(skel->maps.counts, prev, &next, sizeof(next))) {{
		if (!bpf_map__lookup_elem(skel->maps.counts, &next, sizeof(next),
					  &val, sizeof(val), 0)) {{
			total += val;
			procs++;
		}}
		key = next;
		prev = &key;
	}}
	printf("{name}: %llu {sc} calls from %d processes\\n", total, procs);
cleanup:
	{name}_bpf__destroy(skel);
	return err ? 1 : 0;
}}
""")

TEMPLATES["ringbuf"] = dict(common=True, own_header=True, funcs=["bench_setup", "bench_running"],
header="""\
/* {name}.h - event record shared by {name}.bpf.c and {name}.c */
#ifndef __{NAME}_H
#define __{NAME}_H

#include "common.h"

struct {name}_event {{
	unsigned int tgid;
	unsigned long long arg0;
	unsigned long long ts_ns;
	char comm[BENCH_COMM_LEN];
}};

#endif /* __{NAME}_H */
""",
bpf="""\
// {name}: stream sys_enter_{sc} events through a {rb_kib} KiB ring buffer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "common.h"
#include "{name}.h"

struct {{
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, {rb_bytes});
}} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_{sc}")
int emit_{sc}(struct trace_event_raw_sys_enter *ctx)
{{
	struct {name}_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	e->arg0 = ctx->args[0];
	e->ts_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}}
""",
user="""\
static unsigned long long events_seen;
static char last_comm[BENCH_COMM_LEN];

static int handle_event(void *ctx, void *data, size_t len)
{{
	const struct {name}_event *e = data;

	(void)ctx;
	if (len < sizeof(*e))
		return 0;
	events_seen++;
	memcpy(last_comm, e->comm, sizeof(last_comm));
	last_comm[BENCH_COMM_LEN - 1] = '\\0';
	return 0;
}}

int main(int argc, char **argv)
{{
	struct ring_buffer *rb = NULL;
	struct {name}_bpf *skel;
	unsigned long long deadline;
	int err;

	deadline = bench_setup(argc, argv);
	skel = {name}_bpf__open_and_load();
	if (!skel) {{
		fprintf(stderr, "{name}: failed to open and load BPF skeleton\\n");
		return 1;
	}}
	err = {name}_bpf__attach(skel);
	if (err) {{
		fprintf(stderr, "{name}: failed to attach: %d\\n", err);
		goto cleanup;
	}}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, NULL, NULL);
	if (!rb) {{
		err = -errno;
		fprintf(stderr, "{name}: failed to create ring buffer\\n");
		goto cleanup;
	}}
	while (bench_running(deadline)) {{
		err = ring_buffer__poll(rb, 100);
		if (err == -EINTR) {{
			err = 0;
			break;
		}}
		if (err < 0) {{
			fprintf(stderr, "{name}: ring buffer poll failed: %d\\n", err);
			goto cleanup;
		}}
		err = 0;
	}}
	printf("{name}: %llu {sc} events, last from '%s'\\n", events_seen, last_comm);
cleanup:
	ring_buffer__free(rb);
	{name}_bpf__destroy(skel);
	return err ? 1 : 0;
}}
""")

TEMPLATES["syscount"] = dict(common=False, own_header=False,
                             funcs=["bench_setup", "bench_wait", "bench_syscall_name"],
bpf="""\
// {name}: count every syscall by id in a {entries}-slot per-CPU array.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {{
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, {entries});
	__type(key, u32);
	__type(value, u64);
}} calls SEC(".maps");

const volatile __u32 filter_tgid = 0;

SEC("tracepoint/raw_syscalls/sys_enter")
int count_sys_enter(struct trace_event_raw_sys_enter *ctx)
{{
	u32 id = (u32)ctx->id;
	u64 *cnt;

	if (filter_tgid && (bpf_get_current_pid_tgid() >> 32) != filter_tgid)
		return 0;
	cnt = bpf_map_lookup_elem(&calls, &id);
	if (cnt)
		*cnt += 1;
	return 0;
}}
""",
user="""\
int main(int argc, char **argv)
{{
	struct {name}_bpf *skel;
	unsigned long long deadline, sum, best = 0;
	unsigned int id, best_id = 0;
	const char *sname;
	__u64 *vals = NULL;
	int err, cpu, ncpu;

	deadline = bench_setup(argc, argv);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {{
		fprintf(stderr, "{name}: cannot count CPUs: %d\\n", ncpu);
		return 1;
	}}
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 1;
	skel = {name}_bpf__open();
	if (!skel) {{
		fprintf(stderr, "{name}: failed to open BPF skeleton\\n");
		free(vals);
		return 1;
	}}
	skel->rodata->filter_tgid = argc > 2 ? (__u32)atoi(argv[2]) : 0;
	err = {name}_bpf__load(skel);
	if (!err)
		err = {name}_bpf__attach(skel);
	if (err) {{
		fprintf(stderr, "{name}: failed to load or attach: %d\\n", err);
		goto cleanup;
	}}
	bench_wait(deadline);
	for (id = 0; id < {entries}; id++) {{
		if (bpf_map__lookup_elem(skel->maps.calls, &id, sizeof(id), vals,
					 sizeof(*vals) * ncpu, 0))
			continue;
		for (sum = 0, cpu = 0; cpu < ncpu; cpu++)
			sum += vals[cpu];
		if (sum > best) {{
			best = sum;
			best_id = id;
		}}
	}}
	sname = bench_syscall_name(best_id);
	printf("{name}: busiest syscall %s (%u): %llu calls\\n",
	       sname ? sname : "?", best_id, best);
cleanup:
	{name}_bpf__destroy(skel);
	free(vals);
	return err ? 1 : 0;
}}
""")

TEMPLATES["lathist"] = dict(common=True, own_header=False,
                            funcs=["bench_setup", "bench_wait", "bench_print_log2_hist"],
bpf="""\
// {name}: log2 histogram of {sc}(2) latency in microseconds.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "common.h"

struct {{
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, {entries});
	__type(key, u32);
	__type(value, u64);
}} start SEC(".maps");

struct {{
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct bench_hist);
}} hist SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_{sc}")
int enter_{sc}(struct trace_event_raw_sys_enter *ctx)
{{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}}

SEC("tracepoint/syscalls/sys_exit_{sc}")
int exit_{sc}(struct trace_event_raw_sys_exit *ctx)
{{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u32 zero = 0;
	struct bench_hist *h;
	unsigned int slot;
	u64 *tsp, delta;

	tsp = bpf_map_lookup_elem(&start, &tid);
	if (!tsp)
		return 0;
	delta = (bpf_ktime_get_ns() - *tsp) / 1000;
	bpf_map_delete_elem(&start, &tid);
	h = bpf_map_lookup_elem(&hist, &zero);
	if (!h)
		return 0;
	slot = bench_log2(delta);
	if (slot >= BENCH_MAX_SLOTS)
		slot = BENCH_MAX_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
	if (ctx->ret < 0)
		__sync_fetch_and_add(&h->errors, 1);
	return 0;
}}
""",
user="""\
int main(int argc, char **argv)
{{
	struct {name}_bpf *skel;
	struct bench_hist h;
	unsigned long long deadline;
	__u32 zero = 0;
	int err;

	deadline = bench_setup(argc, argv);
	skel = {name}_bpf__open_and_load();
	if (!skel) {{
		fprintf(stderr, "{name}: failed to open and load BPF skeleton\\n");
		return 1;
	}}
	err = {name}_bpf__attach(skel);
	if (err) {{
		fprintf(stderr, "{name}: failed to attach: %d\\n", err);
		goto cleanup;
	}}
	bench_wait(deadline);
	err = bpf_map__lookup_elem(skel->maps.hist, &zero, sizeof(zero), &h, sizeof(h), 0);
	if (err) {{
		fprintf(stderr, "{name}: failed to read histogram: %d\\n", err);
		goto cleanup;
	}}
	printf("{name}: {sc}(2) latency, %u errors\\n", h.errors);
	bench_print_log2_hist(h.slots, BENCH_MAX_SLOTS, "usecs");
cleanup:
	{name}_bpf__destroy(skel);
	return err ? 1 : 0;
}}
""")

TEMPLATES["proclife"] = dict(common=False, own_header=False, funcs=["bench_setup", "bench_wait"],
bpf="""\
// {name}: lifetime of exec'd processes, tracked in a {entries}-entry LRU hash.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {{
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, {entries});
	__type(key, u32);
	__type(value, u64);
}} exec_start SEC(".maps");

__u64 execs = 0;
__u64 exits = 0;
__u64 total_lifetime_ns = 0;

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{{
	u32 pid = ctx->pid;
	u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&exec_start, &pid, &ts, BPF_ANY);
	__sync_fetch_and_add(&execs, 1);
	return 0;
}}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(void *ctx)
{{
	u64 id = bpf_get_current_pid_tgid();
	u32 pid = id >> 32;
	u64 *tsp;

	if ((u32)id != pid)
		return 0; /* a thread, not the whole process */
	tsp = bpf_map_lookup_elem(&exec_start, &pid);
	if (!tsp)
		return 0;
	__sync_fetch_and_add(&total_lifetime_ns, bpf_ktime_get_ns() - *tsp);
	__sync_fetch_and_add(&exits, 1);
	bpf_map_delete_elem(&exec_start, &pid);
	return 0;
}}
""",
user="""\
int main(int argc, char **argv)
{{
	struct {name}_bpf *skel;
	unsigned long long deadline;
	int err;

	deadline = bench_setup(argc, argv);
	skel = {name}_bpf__open_and_load();
	if (!skel) {{
		fprintf(stderr, "{name}: failed to open and load BPF skeleton\\n");
		return 1;
	}}
	err = {name}_bpf__attach(skel);
	if (err) {{
		fprintf(stderr, "{name}: failed to attach: %d\\n", err);
		goto cleanup;
	}}
	bench_wait(deadline);
	printf("{name}: %llu execs, %llu exits, mean lifetime %.3f ms\\n",
	       (unsigned long long)skel->bss->execs,
	       (unsigned long long)skel->bss->exits,
	       skel->bss->exits ? skel->bss->total_lifetime_ns / 1e6 / skel->bss->exits : 0.0);
cleanup:
	{name}_bpf__destroy(skel);
	return err ? 1 : 0;
}}
""")

ORDER = ["count", "ringbuf", "syscount", "lathist", "proclife"]


def app_params(i, n):
    tmpl = ORDER[i % len(ORDER)]
    width = max(2, len(str(n - 1)))
    return dict(
        tmpl=tmpl,
        name=f"{tmpl}{i:0{width}d}",
        sc=SYSCALLS[i % len(SYSCALLS)],
        entries=[1024, 2048, 4096, 10240][i % 4] if tmpl != "syscount" else [512, 1024][i % 2],
        maptype=["HASH", "LRU_HASH"][(i // len(ORDER)) % 2],
        rb_bytes=(64 * 1024) << (i % 3),
    )


def func_closure(names):
    """The helpers `names` need, dependencies first."""
    out = []

    def visit(n):
        if n in out or n not in FUNCS:
            return
        for dep in FUNCS[n][3]:
            visit(dep)
        out.append(n)
    for n in names:
        visit(n)
    return out


def static_helpers(names):
    """Bootstrap kind: the user-space helpers an app needs, as static code."""
    chunks = [UTIL_PRIVATE]
    for n in func_closure(names):
        _, proto, body, _ = FUNCS[n]
        chunks.append(f"static {proto}\n{body}")
    return "\n".join(chunks)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def gen_app(outdir, kind, p):
    t = TEMPLATES[p["tmpl"]]
    fmt = dict(p, NAME=p["name"].upper(), maptype_lc=p["maptype"].lower().replace("_", " "),
               rb_kib=p["rb_bytes"] // 1024)
    name = p["name"]
    if t["own_header"]:
        write(os.path.join(outdir, f"{name}.h"), t["header"].format(**fmt))
    write(os.path.join(outdir, f"{name}.bpf.c"),
          "// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)\n"
          + t["bpf"].format(**fmt) + "\n" + LICENSE_LINE)
    local = []
    if t["common"]:
        local.append('#include "common.h"')
    if t["own_header"]:
        local.append(f'#include "{name}.h"')
    if kind == "shared":
        local += [f'#include "{h}.h"' for h in HELPERS]
    local.append(f'#include "{name}.skel.h"')
    header = "// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)\n" \
        f"// {name}: user-space part; usage: {name} [SECONDS]" \
        + (" [PID]" if "target_tgid" in t["bpf"] or "filter_tgid" in t["bpf"] else "") + "\n" \
        + USER_INCLUDES + "\n".join(local) + "\n\n"
    if kind == "bootstrap":
        header += static_helpers(t["funcs"]) + "\n"
    write(os.path.join(outdir, f"{name}.c"), header + t["user"].format(**fmt))
    return t["common"]


def gen_helpers(outdir):
    """Shared kind: trace_helpers/syscall_names/util .c + .h."""
    for h in HELPERS:
        funcs = [n for n, v in FUNCS.items() if v[0] == h]
        guard = f"BENCH_{h.upper()}_H"
        decls = "".join(f"{FUNCS[n][1]};\n" for n in funcs)
        write(os.path.join(outdir, f"{h}.h"),
              f"/* {h}.h - shared user-space helpers, linked into every app */\n"
              f"#ifndef {guard}\n#define {guard}\n\n{decls}\n#endif /* {guard} */\n")
        body = "// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)\n" + USER_INCLUDES \
            + f'#include "{h}.h"\n'
        if h == "util":
            body += "\n" + UTIL_PRIVATE
        for n in funcs:
            body += f"\n{FUNCS[n][1]}\n{FUNCS[n][2]}"
        write(os.path.join(outdir, f"{h}.c"), body)


# The lesson's directory in a "trees" checkout.
LESSON = "lesson1"


def copy_writable(src, dst):
    """A copy of a source tree with the user's write permission (the originals may be read-only,
    and a copy is what a clone checks out)."""
    shutil.copytree(src, dst, symlinks=True, copy_function=shutil.copyfile)
    for top, dirs, _ in os.walk(dst):
        for d in dirs + ["."]:
            path = os.path.join(top, d)
            if not os.path.islink(path):
                os.chmod(path, 0o755)


def gen_checkout(top, sources):
    """The trees kind's checkout around the lesson: a git repository with the vendored trees."""
    for tree in ("libbpf", "bpftool", "vmlinux.h"):
        if not os.path.isdir(os.path.join(sources, tree)):
            sys.exit(f"{sources} has no {tree}/ tree: pass --trees a folder holding libbpf/, bpftool/ and vmlinux.h/")
    subprocess.run(["git", "init", "-q", top], check=True)
    third_party = os.path.join(top, "third_party")
    copy_writable(os.path.join(sources, "libbpf"), os.path.join(third_party, "libbpf"))
    copy_writable(os.path.join(sources, "bpftool"), os.path.join(third_party, "bpftool"))
    headers = os.path.join(third_party, "vmlinux", "x86")
    copy_writable(os.path.join(sources, "vmlinux.h", "include", "x86"), headers)
    # libbpf/vmlinux.h's vmlinux.h is a link to its versioned file; a checkout without symbolic
    # links (as SOURCES may be) holds the target's name as text: make it the link a clone has.
    header = os.path.join(headers, "vmlinux.h")
    if not os.path.islink(header) and os.path.getsize(header) < 256:
        with open(header) as f:
            target = f.read().strip()
        if "/" not in target and os.path.isfile(os.path.join(headers, target)):
            os.unlink(header)
            os.symlink(target, header)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", choices=["bootstrap", "shared", "trees"], required=True)
    ap.add_argument("--apps", type=int, default=None,
                    help="number of apps (default: 14 for bootstrap, 50 for shared, 5 for trees)")
    ap.add_argument("--trees", help="trees kind: the folder holding the libbpf/, bpftool/ and vmlinux.h/ source trees")
    ap.add_argument("--force", action="store_true", help="empty DIR first if it exists")
    ap.add_argument("dir")
    args = ap.parse_args()
    n = args.apps or {"bootstrap": 14, "shared": 50, "trees": len(ORDER)}[args.kind]
    if args.kind == "trees" and not args.trees:
        ap.error("--kind trees needs --trees SOURCES")
    if n < len(ORDER):
        ap.error(f"--apps must be at least {len(ORDER)} (one app per template)")

    if os.path.exists(args.dir):
        if os.listdir(args.dir) and not args.force:
            sys.exit(f"{args.dir} exists and is not empty (use --force)")
        shutil.rmtree(args.dir)
    os.makedirs(args.dir)
    project = args.dir
    if args.kind == "trees":
        gen_checkout(args.dir, args.trees)
        project = os.path.join(args.dir, LESSON)
        os.makedirs(project)

    write(os.path.join(project, "common.h"), COMMON_H)
    apps = [app_params(i, n) for i in range(n)]
    # A lesson's apps are self-contained, like the bootstrap kind's.
    app_kind = "bootstrap" if args.kind == "trees" else args.kind
    with_common = [p["name"] for p in apps if gen_app(project, app_kind, p)]
    names = " ".join(p["name"] for p in apps)

    with open(os.path.join(HERE, f"Makefile.{args.kind}")) as f:
        mk = f.read().replace("@APPS@", names).replace("@HELPERS@", " ".join(HELPERS))
    write(os.path.join(project, "Makefile"), mk)

    if args.kind == "shared":
        gen_helpers(args.dir)
        write(os.path.join(args.dir, "swbpf.toml"),
              "# Shared user-space sources: compiled once, linked into every app.\n"
              "sources = [" + ", ".join(f'"{h}.c"' for h in HELPERS) + "]\n")

    print(f"{project}: {args.kind} project, {n} apps; common.h is included by "
          f"{len(with_common)} of them")


if __name__ == "__main__":
    main()
