// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* custom_btf.c - see custom_btf.h. */
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include "custom_btf.h"

/* Prints the releases DIR holds a BTF for: " 6.1.0-27-cloud-amd64 ..." */
static void print_releases(const char *dir)
{
	char pattern[PATH_MAX + sizeof("/*.btf")];
	const char *name;
	glob_t found;
	size_t i;

	snprintf(pattern, sizeof(pattern), "%s/*.btf", dir);
	if (glob(pattern, 0, NULL, &found) != 0) {
		fprintf(stderr, " none");
		return;
	}
	for (i = 0; i < found.gl_pathc; i++) {
		name = strrchr(found.gl_pathv[i], '/') + 1;
		fprintf(stderr, " %.*s", (int)(strlen(name) - strlen(".btf")), name);
	}
	globfree(&found);
}

int use_custom_btf(const char *app, struct bpf_object_open_opts *opts)
{
	static char path[PATH_MAX];
	const char *forced = getenv("SWBPF_BTF_DIR");
	char exe[PATH_MAX], dir[PATH_MAX];
	struct utsname host;
	char *slash;
	ssize_t len;

	opts->btf_custom_path = NULL;
	if (!forced && access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return 0;
	if (forced) {
		snprintf(dir, sizeof(dir), "%s", forced);
	} else {	/* PREFIX/bin/APP -> PREFIX/lib/APP/btf */
		len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[len > 0 ? len : 0] = '\0';
		slash = strrchr(exe, '/');
		snprintf(dir, sizeof(dir), "%.*s/../lib/%s/btf",
			 slash ? (int)(slash - exe) : 1, slash ? exe : ".", app);
	}
	uname(&host);
	/* A path too long for the buffer is reported as missing. */
	len = snprintf(path, sizeof(path), "%s/%s.btf", dir, host.release);
	if (len < (ssize_t)sizeof(path) && access(path, R_OK) == 0) {
		opts->btf_custom_path = path;
		return 0;
	}
	if (forced)
		fprintf(stderr, "%s: SWBPF_BTF_DIR has no BTF for this kernel (%s): "
			"%s is missing; releases with a BTF there:", app, host.release, path);
	else
		fprintf(stderr, "%s: this kernel (%s) has no BTF (/sys/kernel/btf/vmlinux), "
			"and %s is missing; releases with a BTF here:", app, host.release, path);
	print_releases(dir);
	fprintf(stderr, "\n%s: add this kernel to btf-for in swbpf.toml and reinstall, %s\n",
		app, forced ? "or unset SWBPF_BTF_DIR"
			    : "or run on a kernel built with CONFIG_DEBUG_INFO_BTF");
	return -1;
}
