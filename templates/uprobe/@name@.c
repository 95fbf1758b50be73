// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * @name@.c - user part of @name@.
 *
 * The build compiles @name@.bpf.c and `bpftool gen skeleton` turns the
 * object into @name@.skel.h: struct @name@_bpf with a field per program
 * (skel->progs.target_entry, skel->progs.target_exit), map
 * (skel->maps.events) and link (skel->links.*), plus
 * @name@_bpf__open/load/destroy. This file loads the programs, attaches
 * them as a uprobe and a uretprobe on @name@_target() in this very binary,
 * then calls that function once a second and prints what the probes saw.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "@name@.h"
#include "custom_btf.h"
#include "@name@.skel.h"

enum { OPT_LOAD_ONLY = 256 };	/* long-only option, outside the char range */

static struct {
	bool verbose;
	bool load_only;
	unsigned int duration;	/* seconds; 0 = until SIGINT/SIGTERM */
} env;

/* Set from signal handlers, read by the main loop. */
static volatile sig_atomic_t exiting;

/*
 * The probed function. libbpf finds it by name in the ELF symbol table of
 * the binary, so it must exist as a real function under this exact name:
 * external linkage keeps the name unchanged, noinline keeps a body to
 * probe. It is called through a volatile function pointer (below), which
 * stops the compiler from inlining, cloning or dropping the call.
 */
__attribute__((noinline)) int @name@_target(int a, int b)
{
	return a + b;
}

static int (*volatile target_fn)(int, int) = @name@_target;

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

/* libbpf logs through this callback; keep it silent unless -v was given. */
static int libbpf_print_fn(enum libbpf_print_level level, const char *format,
			   va_list args)
{
	(void)level;
	if (!env.verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [-v] [-d SECONDS] [--load-only]\n"
		"Call @name@_target() once a second and print what a uprobe and a uretprobe see.\n"
		"\n"
		"  -v, --verbose           print libbpf's debug messages\n"
		"  -d, --duration SECONDS  exit after SECONDS (default: run until Ctrl-C)\n"
		"      --load-only         load the programs (verifier check), then exit\n"
		"  -h, --help              show this help\n",
		prog);
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "duration", required_argument, NULL, 'd' },
		{ "load-only", no_argument, NULL, OPT_LOAD_ONLY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long val;
	int c;

	while ((c = getopt_long(argc, argv, "vd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			env.verbose = true;
			break;
		case 'd':
			errno = 0;
			val = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || val <= 0 || val > INT_MAX) {
				fprintf(stderr, "%s: invalid duration: %s\n", argv[0], optarg);
				return -1;
			}
			env.duration = (unsigned int)val;
			break;
		case OPT_LOAD_ONLY:
			env.load_only = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument: %s\n", argv[0], argv[optind]);
		return -1;
	}
	return 0;
}

/*
 * Called by ring_buffer__consume() for each record, with the bytes the BPF
 * program reserved and submitted. Returning non-zero would stop consuming.
 */
static int handle_event(void *ctx, void *data, size_t size)
{
	const struct @name@_call_event *e = data;

	(void)ctx;
	if (size < sizeof(*e))
		return 0;
	if (e->kind == @NAME@_CALL_ENTRY)
		printf("entry:  pid=%d @name@_target(a=%d, b=%d)\n", e->pid, e->a, e->b);
	else if (e->kind == @NAME@_CALL_RETURN)
		printf("return: pid=%d @name@_target() = %d\n", e->pid, e->ret);
	return 0;
}

/*
 * Attach one program to @name@_target() in our own executable.
 * pid 0 limits the probe to this process; -1 would catch every process
 * that runs the binary. libbpf resolves func_name to a file offset by
 * reading the ELF symbol table of binary_path; the kernel then plants the
 * breakpoint in the file's page, wherever the file is mapped.
 */
static struct bpf_link *attach_target(struct bpf_program *prog, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts,
		.func_name = "@name@_target",
		.retprobe = retprobe,
	);

	return bpf_program__attach_uprobe_opts(prog, 0 /* self */, "/proc/self/exe",
					       0 /* offset within func_name */, &opts);
}

int main(int argc, char **argv)
{
	struct @name@_bpf *skel = NULL;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct ring_buffer *rb = NULL;
	struct bpf_program *prog;
	struct sigaction sa;
	int err = 0, nprogs = 0, i;

	if (parse_args(argc, argv))
		return 2;

	/* Line-buffer stdout so a pipe reader sees each line as it is printed. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print_fn);

	/*
	 * No SA_RESTART: a signal interrupts sleep() at once. SIGALRM
	 * implements --duration and takes the same clean exit path.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);

	/* A kernel without BTF of its own: use the one btf-for made (custom_btf.h). */
	if (use_custom_btf("@name@", &open_opts))
		return 1;
	/* Open, then load: create the ring buffer map, verify both programs. */
	skel = @name@_bpf__open_opts(&open_opts);
	if (!skel) {
		err = -errno;
		fprintf(stderr, "@name@: failed to open BPF skeleton: %s\n", strerror(errno));
		goto cleanup;
	}
	err = @name@_bpf__load(skel);
	if (err) {
		fprintf(stderr, "@name@: failed to load BPF skeleton: %s\n", strerror(-err));
		goto cleanup;
	}

	if (env.load_only) {
		bpf_object__for_each_program(prog, skel->obj)
			nprogs++;
		printf("@name@: loaded %d programs (verifier accepted)\n", nprogs);
		goto cleanup;
	}

	/*
	 * Store the links in the skeleton: @name@_bpf__destroy() then
	 * detaches them like the ones its own attach() would have made.
	 */
	skel->links.target_entry = attach_target(skel->progs.target_entry, false);
	if (!skel->links.target_entry) {
		err = -errno;
		fprintf(stderr, "@name@: failed to attach uprobe: %s\n", strerror(errno));
		goto cleanup;
	}
	skel->links.target_exit = attach_target(skel->progs.target_exit, true);
	if (!skel->links.target_exit) {
		err = -errno;
		fprintf(stderr, "@name@: failed to attach uretprobe: %s\n", strerror(errno));
		goto cleanup;
	}

	/* Map the ring buffer; handle_event() runs once per record. */
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, NULL, NULL);
	if (!rb) {
		err = -errno;
		fprintf(stderr, "@name@: failed to create ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}

	printf("@name@: probing @name@_target() in pid %d\n", getpid());

	if (env.duration)
		alarm(env.duration);

	for (i = 1; !exiting; i++) {
		/*
		 * Both probes run synchronously in this thread, inside this
		 * call, so their records are in the ring buffer when it
		 * returns. To watch another process, poll instead:
		 * ring_buffer__poll() waits until records arrive.
		 */
		target_fn(i, 2 * i);

		/* Read whatever is in the ring now, without waiting. */
		err = ring_buffer__consume(rb);
		if (err < 0) {
			fprintf(stderr, "@name@: error reading ring buffer: %s\n", strerror(-err));
			goto cleanup;
		}
		err = 0;
		sleep(1);
	}

cleanup:
	/* All safe with NULL; destroy detaches the links and unloads. */
	ring_buffer__free(rb);
	@name@_bpf__destroy(skel);
	return err ? 1 : 0;
}
