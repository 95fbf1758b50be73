import SwbpfBasics

/// swbpf's kernel loader: a small C program that swbpf carries as text, writes into the state
/// directory, and builds as a step of its own (`StepKind.kernelLoader`) against the project's
/// libbpf.a. `swbpf verify` runs it to load each program alone into the verifier; `swbpf doctor`
/// runs it to ask the kernel which program kinds load and attach. Its records are read by
/// `LoaderOutput`.
///
/// Why C and not Swift: loading goes through libbpf exactly as an app's skeleton does (the same
/// ELF parsing, CO-RE relocation, map creation and program load), and the probes need the
/// perf_event_open and bpf system calls, which Swift cannot call (syscall(2) is variadic).
public enum KernelLoader {
    public static let binaryName = "swbpf-loader"
    package static let sourceName = "swbpf-loader.c"

    /// Where the step reads the source: swbpf's own directory inside the output directory.
    package static func sourcePath(outputDirectory: String) -> String {
        FileSystem.join(FileSystem.join(outputDirectory, ".swbpf"), sourceName)
    }

    /// Writes the source into `stateDirectory` unless it is already there, unchanged.
    package static func writeSource(stateDirectory: String) throws {
        let path = FileSystem.join(stateDirectory, sourceName)
        let bytes = Array(source.utf8)
        if FileSystem.read(path) == bytes { return }
        try FileSystem.writeAtomically(path, bytes)
    }

    package static let source = #"""
// swbpf-loader: written by swbpf into the build's output directory and linked against the
// project's libbpf.a, so that programs reach the kernel exactly as the app's skeleton would send
// them. Two modes, each printing plain records on standard output for swbpf to read:
//
//   swbpf-loader verify OBJECT PIN_DIR [BTF]   load each program of OBJECT alone into the verifier,
//                                              relocating CO-RE against BTF (another kernel's) if given
//   swbpf-loader probe TRACEFS                 load and attach tiny programs of each kind
//
// Nothing is attached in verify mode; every map and program is freed before the next program.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

// What libbpf says while a program loads (its own warnings, not the kernel's log).
static char libbpf_messages[1 << 16];
static size_t libbpf_length;

static int collect_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG || libbpf_length >= sizeof(libbpf_messages) - 1)
		return 0;
	int n = vsnprintf(libbpf_messages + libbpf_length, sizeof(libbpf_messages) - libbpf_length, format, args);
	if (n > 0)
		libbpf_length += (size_t)n < sizeof(libbpf_messages) - libbpf_length ? (size_t)n
									       : sizeof(libbpf_messages) - libbpf_length - 1;
	return 0;
}

// Text on one line ("-" for none): names come from the object file and must not break a record.
static void put_text(const char *value)
{
	for (const char *c = value && *value ? value : "-"; *c; c++)
		putchar(*c == '\n' || *c == '\r' ? ' ' : *c);
	putchar('\n');
}

static void put_field(const char *key, const char *value)
{
	printf("%s ", key);
	put_text(value);
}

// A block of bytes: its length on the key line, then exactly that many bytes and a newline.
static void put_block(const char *key, const char *bytes, size_t length)
{
	printf("%s %zu\n", key, length);
	fwrite(bytes, 1, length, stdout);
	putchar('\n');
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// The verifier's log for one program, at the most detail that fits: every state (2) with
// statistics (4), then the failing path only (1), then the statistics alone. A log that does not
// fit makes the kernel return ENOSPC instead of the verdict, so each smaller level is a retry.
static const unsigned int log_levels[] = { 2 | 4, 1 | 4, 4 };
enum { log_size = 16 << 20 };

static int verify_one(const char *path, const char *pin_dir, const char *btf, int index, char *log)
{
	const char *kept_log = NULL;
	size_t kept_length = 0;
	int truncated = 0, status = 0;
	unsigned int level = 0;
	uint64_t wall = 0;
	char *truncated_log = NULL;

	for (size_t attempt = 0; attempt < sizeof(log_levels) / sizeof(log_levels[0]); attempt++) {
		LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir, .btf_custom_path = btf);
		libbpf_length = 0;
		libbpf_messages[0] = '\0';
		struct bpf_object *obj = bpf_object__open_file(path, &opts);
		if (!obj) {
			printf("open_error %d\n", errno);
			put_block("libbpf_log", libbpf_messages, libbpf_length);
			return -1;
		}
		struct bpf_program *prog, *target = NULL;
		int i = 0;
		bpf_object__for_each_program(prog, obj) {
			if (i++ == index)
				target = prog;
			else
				bpf_program__set_autoload(prog, false);
		}
		if (!target) {
			bpf_object__close(obj);
			return 1;
		}
		level = log_levels[attempt];
		log[0] = '\0';
		bpf_program__set_log_buf(target, log, log_size);
		bpf_program__set_log_level(target, level);
		if (attempt == 0) {
			put_field("program", bpf_program__name(target));
			put_field("section", bpf_program__section_name(target));
			put_field("type", libbpf_bpf_prog_type_str(bpf_program__type(target)));
			put_field("attach", libbpf_bpf_attach_type_str(bpf_program__expected_attach_type(target)));
		}
		uint64_t start = now_ns();
		int err = bpf_object__load(obj);
		wall = now_ns() - start;
		status = err < 0 ? -err : 0;
		bpf_object__unpin_maps(obj, NULL);
		bpf_object__close(obj);
		if (status == ENOSPC && attempt + 1 < sizeof(log_levels) / sizeof(log_levels[0])) {
			// Keep the first, most detailed tail: the error is at its end.
			if (!truncated_log)
				truncated_log = strndup(log, log_size);
			truncated = 1;
			continue;
		}
		kept_log = log;
		kept_length = strnlen(log, log_size);
		break;
	}
	printf("status %d\n", status);
	printf("log_level %u\n", level);
	printf("truncated %d\n", truncated);
	printf("wall_ns %llu\n", (unsigned long long)wall);
	put_block("libbpf_log", libbpf_messages, libbpf_length);
	put_block("kernel_log", kept_log ? kept_log : "", kept_log ? kept_length : 0);
	if (truncated_log)
		put_block("truncated_log", truncated_log, strlen(truncated_log));
	free(truncated_log);
	printf("end\n");
	return 0;
}

static int verify(const char *path, const char *pin_dir, const char *btf)
{
	char *log = malloc(log_size);
	if (!log) {
		fprintf(stderr, "swbpf-loader: out of memory\n");
		return 2;
	}
	for (int index = 0;; index++) {
		int done = verify_one(path, pin_dir, btf, index, log);
		fflush(stdout);
		if (done < 0) {
			free(log);
			return 3;
		}
		if (done > 0)
			break;
	}
	free(log);
	return 0;
}

// MARK: probe

// r0 = 0; exit: the smallest program every type accepts.
static const struct bpf_insn return_zero[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static int load(enum bpf_prog_type type, enum bpf_attach_type attach, __u32 btf_id)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach, .attach_btf_id = btf_id);
	int fd = bpf_prog_load(type, "swbpf_probe", "GPL", return_zero, 2, &opts);
	return fd < 0 ? -errno : fd;
}

static long perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu)
{
	return syscall(__NR_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

// The number a sysfs or tracefs file holds, or -errno.
static int read_number(const char *path)
{
	char text[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	return n > 0 ? atoi(text) : -EINVAL;
}

// The perf event type number of a dynamic PMU (kprobe, uprobe), or -errno.
static int pmu_type(const char *pmu)
{
	char path[256];
	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	return read_number(path);
}

// Opens `attr` for the calling process and hands it `prog`: 0 or an errno.
static int attach_perf_event(struct perf_event_attr *attr, int prog, pid_t pid, int cpu)
{
	attr->size = sizeof(*attr);
	int fd = (int)perf_event_open(attr, pid, cpu);
	if (fd < 0)
		return errno;
	int status = ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog) < 0 ? errno : 0;
	close(fd);
	return status;
}

static void put_probe(const char *kind, int load_status, int attach_status, const char *target)
{
	printf("probe %s %d %d ", kind, load_status, attach_status);
	put_text(target);
}

// A program kind that is only loaded: attaching it would change a network interface or socket.
static void probe_load_only(const char *kind, enum bpf_prog_type type)
{
	int fd = load(type, 0, 0);
	put_probe(kind, fd < 0 ? -fd : 0, -1, NULL);
	if (fd >= 0)
		close(fd);
}

static void probe_kprobe(const char *tracefs)
{
	int fd = load(BPF_PROG_TYPE_KPROBE, 0, 0);
	if (fd < 0)
		{ put_probe("kprobe", -fd, -1, NULL); return; }
	static const char *const targets[] = { "do_unlinkat", "do_sys_openat2", "vfs_read" };
	int type = pmu_type("kprobe");
	int status = type < 0 ? -type : 0;
	const char *target = "/sys/bus/event_source/devices/kprobe";
	for (size_t i = 0; type >= 0 && i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct perf_event_attr attr = { .type = (__u32)type, .config1 = (__u64)(uintptr_t)targets[i] };
		target = targets[i];
		status = attach_perf_event(&attr, fd, -1, 0);
		if (status != ENOENT && status != EINVAL)
			break;
	}
	if (type < 0) {
		// Without the PMU libbpf falls back to tracefs's kprobe_events; without that too, it fails.
		char legacy[512];
		snprintf(legacy, sizeof(legacy), "%s/kprobe_events", tracefs);
		if (access(legacy, F_OK) == 0) {
			status = -1;
			target = legacy;
		}
	}
	put_probe("kprobe", 0, status, target);
	close(fd);
}

// A function of this program's own text, for the uprobe to attach to.
__attribute__((noinline)) void swbpf_uprobe_target(void)
{
	__asm__ volatile("");
}

// The offset in the executable file of `address`, from /proc/self/maps, or 0.
static unsigned long file_offset(const void *address, char *path, size_t path_size)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	if (!maps)
		return 0;
	char line[4096];
	unsigned long result = 0;
	while (fgets(line, sizeof(line), maps)) {
		unsigned long start, end, offset;
		char perms[8];
		int name = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &start, &end, perms, &offset, &name) < 4 || !name)
			continue;
		if ((uintptr_t)address >= start && (uintptr_t)address < end) {
			result = (uintptr_t)address - start + offset;
			snprintf(path, path_size, "%s", line + name);
			path[strcspn(path, "\n")] = '\0';
			break;
		}
	}
	fclose(maps);
	return result;
}

static void probe_uprobe(void)
{
	int fd = load(BPF_PROG_TYPE_KPROBE, 0, 0);
	if (fd < 0)
		{ put_probe("uprobe", -fd, -1, NULL); return; }
	char path[4096] = "";
	unsigned long offset = file_offset((const void *)swbpf_uprobe_target, path, sizeof(path));
	int type = pmu_type("uprobe");
	int status = type < 0 ? -type : 0;
	if (type >= 0) {
		struct perf_event_attr attr = { .type = (__u32)type, .config1 = (__u64)(uintptr_t)path, .config2 = offset };
		status = attach_perf_event(&attr, fd, 0, -1);
		swbpf_uprobe_target();
	}
	put_probe("uprobe", 0, status, type < 0 ? "/sys/bus/event_source/devices/uprobe" : "swbpf_uprobe_target");
	close(fd);
}

static int tracepoint_id(const char *tracefs, const char *event)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/events/%s/id", tracefs, event);
	return read_number(path);
}

static void probe_tracepoint(const char *tracefs)
{
	int fd = load(BPF_PROG_TYPE_TRACEPOINT, 0, 0);
	if (fd < 0)
		{ put_probe("tracepoint", -fd, -1, NULL); return; }
	static const char *const events[] = { "syscalls/sys_enter_write", "sched/sched_process_exec" };
	int status = ENOENT;
	const char *target = events[0];
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		int id = tracepoint_id(tracefs, events[i]);
		target = events[i];
		if (id < 0) {
			status = -id;
			continue;
		}
		struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .config = (__u64)id };
		status = attach_perf_event(&attr, fd, -1, 0);
		break;
	}
	put_probe("tracepoint", 0, status, target);
	close(fd);
}

static void probe_raw_tracepoint(void)
{
	int fd = load(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0);
	if (fd < 0)
		{ put_probe("raw_tracepoint", -fd, -1, NULL); return; }
	int link = bpf_raw_tracepoint_open("sys_enter", fd);
	put_probe("raw_tracepoint", 0, link < 0 ? errno : 0, "sys_enter");
	if (link >= 0)
		close(link);
	close(fd);
}

static void probe_perf_event(void)
{
	int fd = load(BPF_PROG_TYPE_PERF_EVENT, 0, 0);
	if (fd < 0)
		{ put_probe("perf_event", -fd, -1, NULL); return; }
	struct perf_event_attr attr = { .type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_CPU_CLOCK,
					.sample_period = 1000000, .disabled = 1 };
	put_probe("perf_event", 0, attach_perf_event(&attr, fd, 0, -1), "cpu-clock");
	close(fd);
}

// A BTF-typed program (fentry, fexit, tp_btf, lsm, iter) against the first of `names` that the
// kernel's BTF has.
static void probe_btf(struct btf *vmlinux, const char *kind, enum bpf_prog_type type, enum bpf_attach_type attach,
		      const char *const *names, size_t count, int btf_kind, int attach_with_link)
{
	int id = -ENOENT;
	const char *name = NULL;
	for (size_t i = 0; vmlinux && i < count && id < 0; i++) {
		name = names[i];
		id = btf__find_by_name_kind(vmlinux, names[i], btf_kind);
	}
	if (id < 0)
		{ put_probe(kind, -id, -1, name); return; }
	int fd = load(type, attach, (__u32)id);
	if (fd < 0)
		{ put_probe(kind, -fd, -1, name); return; }
	int link = attach_with_link ? bpf_link_create(fd, 0, attach, NULL) : bpf_raw_tracepoint_open(NULL, fd);
	put_probe(kind, 0, link < 0 ? errno : 0, name);
	if (link >= 0)
		close(link);
	close(fd);
}

static void probe_map(const char *kind, enum bpf_map_type type)
{
	int supported = libbpf_probe_bpf_map_type(type, NULL);
	printf("map %s %d\n", kind, supported == 1 ? 0 : supported == 0 ? EINVAL : -supported);
}

static int probe(const char *tracefs)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	static const char *const functions[] = { "bpf_fentry_test1", "do_unlinkat", "vfs_read" };
	static const char *const lsm_hooks[] = { "bpf_lsm_file_open" };
	static const char *const raw_tracepoints[] = { "btf_trace_sched_switch", "btf_trace_sys_enter" };
	static const char *const iterators[] = { "bpf_iter_task" };
	probe_load_only("socket_filter", BPF_PROG_TYPE_SOCKET_FILTER);
	probe_kprobe(tracefs);
	probe_uprobe();
	probe_tracepoint(tracefs);
	probe_raw_tracepoint();
	probe_perf_event();
	probe_btf(vmlinux, "fentry", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, functions, 3, BTF_KIND_FUNC, 0);
	probe_btf(vmlinux, "fexit", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, functions, 3, BTF_KIND_FUNC, 0);
	probe_btf(vmlinux, "tp_btf", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, raw_tracepoints, 2, BTF_KIND_TYPEDEF, 0);
	probe_btf(vmlinux, "lsm", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, lsm_hooks, 1, BTF_KIND_FUNC, 0);
	probe_btf(vmlinux, "iter", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, iterators, 1, BTF_KIND_FUNC, 1);
	probe_load_only("xdp", BPF_PROG_TYPE_XDP);
	probe_load_only("sched_cls", BPF_PROG_TYPE_SCHED_CLS);
	probe_load_only("cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB);
	probe_map("ringbuf", BPF_MAP_TYPE_RINGBUF);
	probe_map("perf_event_array", BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	printf("vmlinux_btf %d\n", vmlinux ? 0 : errno);
	btf__free(vmlinux);
	return 0;
}

int main(int argc, char **argv)
{
	libbpf_set_print(collect_libbpf);
	printf("swbpf-loader 1\n");
	printf("libbpf_version %s\n", libbpf_version_string());
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "verify") == 0)
		return verify(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (argc == 3 && strcmp(argv[1], "probe") == 0)
		return probe(argv[2]);
	fprintf(stderr, "usage: %s verify OBJECT PIN_DIR [BTF] | probe TRACEFS\n", argv[0]);
	return 2;
}
"""#
}
