/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * custom_btf.h - BTF for kernels built without it. swbpf writes this helper
 * once per project; every app that includes this header links custom_btf.c.
 *
 * CO-RE relocates a program's field accesses against the running kernel's
 * types, which a kernel built without CONFIG_DEBUG_INFO_BTF does not have
 * (no /sys/kernel/btf/vmlinux). For such kernels, btf-for in swbpf.toml makes
 * a small BTF of the types an app uses, and `swbpf install` puts it in
 * PREFIX/lib/APP/btf/RELEASE.btf, RELEASE as `uname -r` prints it.
 */
#ifndef CUSTOM_BTF_H
#define CUSTOM_BTF_H

#include <bpf/libbpf.h>

/*
 * Before a skeleton's __open_opts(): points opts->btf_custom_path at APP's
 * BTF for the running kernel when the kernel has none of its own, and leaves
 * it NULL when it has. SWBPF_BTF_DIR in the environment names the directory
 * to take it from instead, and forces its use (to try a small BTF on a kernel
 * with BTF). Returns 0, or -1 after saying on stderr which file is missing.
 * The path is kept in a static buffer, valid until the next call.
 */
int use_custom_btf(const char *app, struct bpf_object_open_opts *opts);

#endif /* CUSTOM_BTF_H */
