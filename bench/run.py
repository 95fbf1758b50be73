#!/usr/bin/env python3
"""Benchmark swbpf against the libbpf-bootstrap style Makefile.

For each project kind (bootstrap: 14 apps, shared: 50 apps with shared
helper sources, trees: a 5-app tutorial lesson whose libbpf and bpftool are
built from the checkout's source trees), generates one pristine project, copies it once per tool
(make, swbpf) and times these cases, runs interleaved between the tools:

  cold      remove .output, the binaries and anything else not in the
            pristine sources, then build
  noop      build a fully built project again
  touch     `touch APP.c` (mtime only, same content), build
  edit      append a new function to APP.c, build
  edit-gold the edit case with both tools linking through gold
            (LDFLAGS=-fuse-ld=gold: make's variable, swbpf's knob)
  edit-bpf  append a global to APP.bpf.c, build
  cold-vendored  cold, with vmlinux.h given (make VMLINUX=FILE, swbpf's
            VMLINUX=FILE): a header checked in, as real projects vendor it
  header    append a comment to common.h (included by kernel and user parts
            of several apps), build; checks whether those apps were rebuilt
  helper-c  (shared kind) append a new function to util.c, build
  helper-h  (shared kind) append a comment to util.h (included by every app
            and util.c), build; checks whether they were rebuilt

swbpf's shared cache (`SWBPF_CACHE_DIR`, one per case under the work dir, never
the user's) adds these cases, run by swbpf alone (a fresh clone is a cold build
for make, so its ratio is taken to make's cold build):

  cold-pch      cold with the cache off (SWBPF_CACHE=0): the PCH of vmlinux.h
                is the only help
  clone-local   a fresh clone in a new directory, its first build, with the
                local cache filled by an untimed build of another copy
  clone-remote  the same with an empty local cache and another HOME (a second
                machine), and nginx on loopback as the remote cache, filled by
                an untimed build
  clone-lesson  (trees kind) a second lesson in the same checkout (a copy of
                the first, in a new directory beside it), its first build, with
                the local cache filled by an untimed build of another lesson
                there: the same libbpf and bpftool trees, at the same path

The trees kind runs cold, clone-lesson and clone-local (the same trees in
another checkout); for make each is a cold build of libbpf, bpftool and the
apps.

The cold case starts each run with an empty cache (swbpf stores everything it
builds, which it pays for); the incremental cases use one cache throughout.

Before each run of an incremental case, the files changed by the previous
run get their pristine content back (with a new mtime) and the tool builds
once, untimed, so every run starts from a built, pristine state that the
tool itself produced.  Both tools build with -j JOBS (default 2).

Prints a Markdown table per kind on stdout; progress goes to stderr.
"""
import argparse
import collections
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
GEN = os.path.join(BENCH, "gen-project.py")

# One progress line per step, as printed by the Makefile and by swbpf:
# two spaces, an upper-case tag, the target.
STEP_RE = re.compile(r"^  ([A-Z][A-Z0-9_-]*)\s+(\S.*?)\s*$")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# The kinds of project; the trees kind's project is a lesson in its checkout.
APP_KINDS = {"bootstrap", "shared"}
ALL_KINDS = APP_KINDS | {"trees"}
LESSON = "lesson1"
TAG_ORDER = ["CLEAN", "MKDIR", "LIBBPF", "BPFTOOL", "VMLINUX", "PCH", "BPF", "GEN-OBJ", "GEN-SKEL", "CC", "BINARY", "CACHED"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
class Tool:
    def __init__(self, name, argv):
        self.name = name
        self.argv = argv  # function: project dir -> argv

    def __repr__(self):
        return self.name


def build_env():
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "V"):
        env.pop(k, None)
    env["LC_ALL"] = "C"
    return env


class Result:
    def __init__(self, rc, ms, out, err):
        self.rc, self.ms, self.out, self.err = rc, ms, out, err
        self.steps = []        # (tag, target)
        self.up_to_date = False
        text = out + "\n" + err
        for line in text.splitlines():
            if "up to date" in line.lower() or "nothing to be done" in line.lower():
                self.up_to_date = True
                continue
            m = STEP_RE.match(line)
            # Not the sub-makes' own progress (libbpf's and bpftool's Makefiles, in make's trees
            # build): they name their objects by absolute path, and INSTALL the headers.
            if m and not m.group(2).startswith("/") and m.group(1) != "INSTALL":
                self.steps.append((m.group(1), m.group(2)))
        self.warnings = sum(1 for l in text.splitlines() if "warning:" in l)

    def tag_counts(self):
        return collections.Counter(t for t, _ in self.steps)


def run_build(tool, proj, timeout, extra_env=None, extra_args=()):
    """Run one build and time it (wall clock, perf_counter_ns)."""
    argv = tool.argv(proj.dir) + list(extra_args)
    env = build_env()
    env.update(extra_env or {})
    t0 = time.perf_counter_ns()
    try:
        p = subprocess.Popen(argv, cwd=proj.dir, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    except OSError as e:
        return Result(-2, 0.0, "", f"cannot run {argv[0]}: {e}")
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)  # the build and its compilers
        out, err = p.communicate()
        rc, err = -1, err + f"\ntimed out after {timeout}s"
    except BaseException:  # interrupted: do not leave the build running
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        raise
    ms = (time.perf_counter_ns() - t0) / 1e6
    return Result(rc, ms, out, err)


# --------------------------------------------------------------------------
class Project:
    """One tool's copy of a pristine project: `path` is the copy of the whole checkout, and the
    project is its `lesson` subdirectory (the trees kind's), or the checkout itself."""

    def __init__(self, pristine, path, lesson=""):
        self.pristine = os.path.join(pristine, lesson) if lesson else pristine
        self.root = path
        self.dir = os.path.join(path, lesson) if lesson else path
        shutil.copytree(pristine, path, symlinks=True)
        self.entries = set(os.listdir(self.pristine))
        self.apps = sorted(f[:-len(".bpf.c")] for f in self.entries if f.endswith(".bpf.c"))
        self.modified = set()

    def restore(self):
        """Give changed files their pristine content back, with a new mtime."""
        for rel in sorted(self.modified):
            src, dst = os.path.join(self.pristine, rel), os.path.join(self.dir, rel)
            with open(src, "rb") as f:
                data = f.read()
            with open(dst, "wb") as f:
                f.write(data)
        self.modified.clear()

    def wipe(self):
        """Cold state: drop everything that is not a pristine source."""
        self.restore()
        for e in os.listdir(self.dir):
            if e in self.entries:
                continue
            p = os.path.join(self.dir, e)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)

    def append(self, rel, text):
        self.modified.add(rel)
        with open(os.path.join(self.dir, rel), "a") as f:
            f.write(text)

    def touch(self, rel):
        os.utime(os.path.join(self.dir, rel))

    def missing_binaries(self):
        return [a for a in self.apps if not os.access(os.path.join(self.dir, a), os.X_OK)]


def local_includes(pristine):
    """file -> set of local files it includes, transitively."""
    direct = {}
    for f in os.listdir(pristine):
        if f.endswith((".c", ".h")):
            with open(os.path.join(pristine, f)) as fh:
                direct[f] = {i for i in INCLUDE_RE.findall(fh.read())}

    def closure(f, seen):
        for i in direct.get(f, ()):
            if i not in seen:
                seen.add(i)
                closure(i, seen)
        return seen
    return {f: closure(f, set()) for f in direct}


def includers(pristine, header):
    """Compilation units that include `header`: [(unit name, kernel?, user?)]."""
    inc = local_includes(pristine)
    units = []
    for f in sorted(inc):
        if f.endswith(".bpf.c"):
            continue
        if f.endswith(".c"):
            name = f[:-2]
            k = header in inc.get(name + ".bpf.c", set())
            u = header in inc[f]
            if k or u:
                units.append((name, k, u))
    return units


def rebuilt_units(res, units):
    """How many of `units` the build recompiled (every part that includes the header)."""
    bpf = {os.path.basename(t) for tag, t in res.steps if tag == "BPF"}
    cc = {os.path.basename(t) for tag, t in res.steps if tag == "CC"}
    n = 0
    for name, k, u in units:
        ok_k = not k or f"{name}.tmp.bpf.o" in bpf or f"{name}.bpf.o" in bpf
        ok_u = not u or f"{name}.o" in cc
        n += ok_k and ok_u
    return n


# --------------------------------------------------------------------------
class Nginx:
    """Debian's nginx (nginx-light: WebDAV PUT) on a free loopback port: a Bazel HTTP cache."""

    def __init__(self, root):
        import socket
        self.root = os.path.join(root, "nginx")
        os.makedirs(os.path.join(self.root, "data"), exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        conf = os.path.join(self.root, "nginx.conf")
        r = self.root
        with open(conf, "w") as f:
            f.write(f"""daemon off;
master_process off;
worker_processes 1;
error_log {r}/error.log;
pid {r}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {r}/body;
  proxy_temp_path {r}/proxy;
  fastcgi_temp_path {r}/fastcgi;
  uwsgi_temp_path {r}/uwsgi;
  scgi_temp_path {r}/scgi;
  client_max_body_size 256m;
  server {{
    listen 127.0.0.1:{self.port};
    root {r}/data;
    location / {{ dav_methods PUT; create_full_put_path on; dav_access user:rw; }}
  }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-p", self.root, "-c", conf, "-e", os.path.join(self.root, "error.log")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("nginx did not start (is nginx-light installed?)")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/swbpf"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def cache_env(case, kind_root, run, nginx):
    """The environment swbpf builds with in `case` (the cache directory is never the user's)."""
    if case.cache == "off":
        return {"SWBPF_CACHE": "0"}
    env = {"SWBPF_CACHE": "1", "SWBPF_CACHE_DIR": os.path.join(kind_root, f"cache-{case.key}")}
    if case.cache == "warm-remote":
        # Another machine each run: its own empty local cache and HOME.
        home = os.path.join(kind_root, f"home-{case.key}-{run}")
        env.update(SWBPF_CACHE_DIR=os.path.join(home, "cache"), HOME=home, SWBPF_REMOTE_CACHE=nginx.url)
    return env


# --------------------------------------------------------------------------
class Case:
    def __init__(self, key, label, prepare=None, cold=False, header=None, kinds=APP_KINDS, cache="kept",
                 swbpf_only=False, clone=None, make_args=(), swbpf_env=None):
        self.key, self.label, self.prepare = key, label, prepare
        self.cold, self.header, self.kinds = cold, header, kinds
        # swbpf's cache for this case: "empty" (emptied before each run), "off", "kept" (one
        # for the whole case), "warm-local" or "warm-remote" (filled once before the runs).
        # clone: each run builds a new copy, of the whole checkout ("checkout") or, beside the
        # tool's project in its checkout, of the trees kind's lesson ("lesson").
        self.cache, self.swbpf_only, self.clone = cache, swbpf_only, clone
        # What the case gives each tool: make's command-line variables, swbpf's environment.
        self.make_args, self.swbpf_env = list(make_args), dict(swbpf_env or {})


def edit_code(tag, r):
    return f"\n/* bench edit {r} */\nint bench_{tag}_edit_{r}(void)\n{{\n\treturn {r};\n}}\n"


def make_cases(app, vendored):
    return [
        Case("cold", "cold build (empty cache)", cold=True, cache="empty", kinds=ALL_KINDS),
        Case("cold-vendored", "cold build, vmlinux.h given (`VMLINUX=`), empty cache", cold=True, cache="empty",
             make_args=[f"VMLINUX={vendored}"], swbpf_env={"VMLINUX": vendored}),
        Case("cold-pch", "cold build, PCH only (cache off)", cold=True, cache="off", swbpf_only=True),
        Case("clone-local", "fresh clone, local cache warm", cold=True, cache="warm-local", swbpf_only=True,
             clone="checkout", kinds=ALL_KINDS),
        Case("clone-lesson", "second lesson, same trees, local cache warm", cold=True, cache="warm-local",
             swbpf_only=True, clone="lesson", kinds={"trees"}),
        Case("clone-remote", "fresh clone, only the remote cache warm (nginx on loopback)", cold=True,
             cache="warm-remote", swbpf_only=True, clone="checkout"),
        Case("noop", "no-op build"),
        Case("touch", f"`touch {app}.c`", lambda p, r: p.touch(f"{app}.c")),
        Case("edit", f"edit {app}.c", lambda p, r: p.append(f"{app}.c", edit_code("app", r))),
        # The same edit linked by gold (binutils'; `-fuse-ld=`), given to both tools the same way.
        Case("edit-gold", f"edit {app}.c, linked with gold (`LDFLAGS=-fuse-ld=gold`)",
             lambda p, r: p.append(f"{app}.c", edit_code("app", r)),
             make_args=["LDFLAGS=-fuse-ld=gold"], swbpf_env={"LDFLAGS": "-fuse-ld=gold"}),
        Case("edit-bpf", f"edit {app}.bpf.c", lambda p, r: p.append(f"{app}.bpf.c", f"\n/* bench: kernel edit {r} */\nint bench_bpf_edit_{r};\n")),
        Case("header", "edit shared header common.h",
             lambda p, r: p.append("common.h", f"/* bench: header edit {r} */\n"), header="common.h"),
        Case("helper-c", "edit helper source util.c",
             lambda p, r: p.append("util.c", edit_code("util", r)), kinds={"shared"}),
        Case("helper-h", "edit helper header util.h",
             lambda p, r: p.append("util.h", f"/* bench: header edit {r} */\n"),
             header="util.h", kinds={"shared"}),
    ]


# --------------------------------------------------------------------------
def fmt_ms(vals):
    if not vals:
        return "—"
    med, lo, hi = statistics.median(vals), min(vals), max(vals)

    def f(x):
        return f"{x:.0f}" if x >= 100 else f"{x:.1f}"
    return f"{f(med)} ({f(lo)}–{f(hi)})" if len(vals) > 1 else f(med)


def fmt_steps(counts):
    total = sum(counts.values())
    if not total:
        return "0"
    tags = sorted(counts, key=lambda t: (TAG_ORDER.index(t) if t in TAG_ORDER else 99, t))
    return f"{total} (" + ", ".join(f"{counts[t]} {t}" for t in tags) + ")"


def resolve_swbpf(args):
    path = args.swbpf or os.environ.get("SWBPF")
    if not path:
        cmd = ["swift", "build", "-c", "release", "--static-swift-stdlib", "--package-path", REPO]
        log("+ " + " ".join(cmd))
        p = subprocess.run(cmd, stdout=sys.stderr)
        if p.returncode:
            sys.exit(f"swift build failed ({p.returncode}); set SWBPF or use --tools make")
        path = os.path.join(REPO, ".build", "release", "swbpf")
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        sys.exit(f"swbpf binary not found or not executable: {path}")
    return path


def installed_copy(path):
    """The binary as scripts/install installs it (stripped), in a temp dir: its size and start-up
    are what users get."""
    directory = tempfile.mkdtemp(prefix="swbpf-bench-bin-")
    BINARY_COPIES.append(directory)
    copy = os.path.join(directory, "swbpf")
    subprocess.run(["strip", "-o", copy, path], check=True)
    BINARY_SIZES.append((path, os.path.getsize(path), os.path.getsize(copy)))
    return copy


BINARY_SIZES = []
BINARY_COPIES = []  # removed at the end, whatever --keep says: only the projects are kept


def tool_version(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except Exception:
        return "?"


def bench_kind(kind, napps, tools, args, root, raw, nginx):
    kind_root = os.path.join(root, kind)
    pristine = os.path.join(kind_root, "src")
    subprocess.run([sys.executable, GEN, "--kind", kind, "--apps", str(napps), "--force", pristine]
                   + (["--trees", args.trees] if kind == "trees" else []),
                   check=True, stdout=sys.stderr)
    lesson = LESSON if kind == "trees" else ""
    projects = {t.name: Project(pristine, os.path.join(root, kind, t.name), lesson) for t in tools}

    def clone(case, tool, name):
        """A new copy for a clone case: another checkout, or another lesson in the tool's checkout."""
        if case.clone == "lesson":
            return Project(os.path.join(pristine, lesson), os.path.join(projects[tool.name].root, name))
        return Project(pristine, os.path.join(kind_root, name), lesson)
    apps = projects[tools[0].name].apps
    app = apps[0]
    # A vendored vmlinux.h, as a project checks one in: the running kernel's, dumped once.
    vendored = os.path.join(kind_root, "vendored", "vmlinux.h")
    os.makedirs(os.path.dirname(vendored), exist_ok=True)
    with open(vendored, "w") as header:
        subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"], check=True, stdout=header)
    cases = [c for c in make_cases(app, vendored)
             if (c.kinds is None or kind in c.kinds) and (not args.cases or c.key in args.cases)]
    header_units = {c.header: includers(pristine, c.header) for c in cases if c.header}

    # Warm-up (untimed): page cache, and each tool's first build.
    for t in tools:
        log(f"[{kind}] warm-up build: {t.name}")
        res = run_build(t, projects[t.name], args.timeout, {"SWBPF_CACHE": "0"})
        if res.rc:
            log(f"[{kind}] warm-up build with {t.name} failed (rc {res.rc}):\n" + tail(res))

    rows = []
    for case in cases:
        per_tool = {t.name: dict(ms=[], steps=[], fails=[], notes=set(), rebuilt=[]) for t in tools}
        case_tools = [t for t in tools if t.name == "swbpf" or not case.swbpf_only]
        swbpf_tool = next((t for t in tools if t.name == "swbpf"), None)
        if swbpf_tool and case.cache in ("warm-local", "warm-remote"):
            # Fill the cache with an untimed build of another copy.
            filler = clone(case, swbpf_tool, f"filler-{case.key}")
            env = cache_env(case, kind_root, "filler", nginx)
            res = run_build(swbpf_tool, filler, args.timeout, env)
            log(f"[{kind}] {case.key}: cache filled ({res.ms:.0f} ms, rc {res.rc})")
            shutil.rmtree(filler.root, ignore_errors=True)
        for r in range(args.runs):
            order = case_tools if r % 2 == 0 else list(reversed(case_tools))
            for t in order:
                proj, acc = projects[t.name], per_tool[t.name]
                env = dict(cache_env(case, kind_root, r, nginx), **case.swbpf_env) if t.name == "swbpf" else {}
                args_of_tool = case.make_args if t.name == "make" else []
                if case.cache == "empty" and t.name == "swbpf":
                    shutil.rmtree(env["SWBPF_CACHE_DIR"], ignore_errors=True)
                if case.clone:
                    proj = clone(case, t, f"{t.name}-{case.key}-{r}")
                elif case.cold:
                    proj.wipe()
                else:
                    proj.restore()
                    reset = run_build(t, proj, args.timeout, env, args_of_tool)
                    if reset.rc:
                        acc["fails"].append(f"reset build rc {reset.rc}")
                        log(f"[{kind}] {case.key} run {r + 1}: {t.name} reset build failed:\n" + tail(reset))
                        continue
                    time.sleep(0.02)  # a later mtime than anything the reset build wrote
                if case.prepare:
                    case.prepare(proj, r)
                res = run_build(t, proj, args.timeout, env, args_of_tool)
                missing = proj.missing_binaries()
                if case.clone:
                    shutil.rmtree(proj.root, ignore_errors=True)
                raw.append(dict(kind=kind, case=case.key, run=r + 1, tool=t.name, rc=res.rc,
                                ms=round(res.ms, 3), steps=[" ".join(s) for s in res.steps]))
                log(f"[{kind}] {case.key} run {r + 1}/{args.runs}: {t.name} "
                    f"{res.ms:.0f} ms, {len(res.steps)} steps" + (f", rc {res.rc}" if res.rc else ""))
                if res.rc:
                    acc["fails"].append(f"rc {res.rc}")
                    log(tail(res))
                    continue
                acc["ms"].append(res.ms)
                acc["steps"].append(res.tag_counts())
                if res.warnings:
                    acc["notes"].add(f"{res.warnings} warning line(s)")
                if missing:
                    acc["notes"].add(f"{len(missing)} binaries missing")
                if case.key == "noop" and t.name == "swbpf" and not res.up_to_date:
                    acc["notes"].add("no 'up to date' line")
                if case.header:
                    acc["rebuilt"].append(rebuilt_units(res, header_units[case.header]))
        rows.append((case, per_tool))
    return rows, apps, header_units


def tail(res, n=20):
    lines = (res.out + "\n" + res.err).strip().splitlines()
    return "\n".join("    " + l for l in lines[-n:])


def steps_cell(acc):
    if not acc["steps"]:
        return "—"
    last = acc["steps"][-1]
    cell = fmt_steps(last)
    totals = {sum(c.values()) for c in acc["steps"]}
    if len(totals) > 1:
        cell += f" (varied: {min(totals)}–{max(totals)})"
    return cell


def hit_rate(acc):
    """Steps restored from the cache (CACHED lines) over the steps swbpf ran or restored."""
    if not acc["steps"]:
        return None
    last = acc["steps"][-1]
    total = sum(last.values())
    return (last.get("CACHED", 0), total) if total else None


def render(kind, napps, rows, tools, header_units, apps):
    names = [t.name for t in tools]
    extra = {"shared": " + 3 shared helper sources",
             "trees": " in a lesson, libbpf and bpftool built from the checkout's third_party/ trees"}
    out = [f"### {kind}: {napps} apps" + extra.get(kind, ""), ""]
    head = ["case"] + [f"{n} median ms (min–max)" for n in ("make", "swbpf")] + ["swbpf / make"] + [f"steps {n} ran" for n in ("make", "swbpf")] + ["notes"]
    make_cold = next((statistics.median(pt["make"]["ms"]) for c, pt in rows
                      if c.key == "cold" and "make" in pt and pt["make"]["ms"]), None)
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for case, per_tool in rows:
        cells_ms, cells_steps, notes = [], [], []
        for n in ("make", "swbpf"):
            acc = per_tool.get(n)
            if acc is None or (n == "make" and case.swbpf_only):
                cells_ms.append("not run" if acc is None else "(as cold)")
                cells_steps.append("—")
                continue
            ms = fmt_ms(acc["ms"])
            if acc["fails"]:
                ms = (ms + "; " if acc["ms"] else "") + f"FAILED {len(acc['fails'])}/{len(acc['fails']) + len(acc['ms'])}"
            cells_ms.append(ms)
            cells_steps.append(steps_cell(acc))
            if case.header and acc["rebuilt"]:
                units = header_units[case.header]
                got = min(acc["rebuilt"])
                n_inc = sum(1 for u in units if u[0] in apps)
                whom = f"{n_inc} apps" + (f" + {len(units) - n_inc} helper" if len(units) > n_inc else "")
                what = f"{n} recompiled {got} of the {whom} that include {case.header}"
                if got < len(units):
                    what += " (stale binaries" + \
                        (": `$(wildcard %.h)` matches nothing, header edits are not tracked)" if n == "make" else ")")
                notes.append(what)
            for note in sorted(acc["notes"]):
                notes.append(f"{n}: {note}")
            if n == "swbpf" and case.cache != "off" and (rate := hit_rate(acc)) and rate[0]:
                notes.append(f"cache hits {rate[0]} of {rate[1]} steps ({100 * rate[0] / rate[1]:.0f}%)")
        ratio = "—"
        swbpf_acc = per_tool.get("swbpf")
        if swbpf_acc and swbpf_acc["ms"]:
            # Cold-like cases against make's cold build; incremental ones against make's own run.
            make_ms = make_cold if case.cold else (statistics.median(per_tool["make"]["ms"])
                                                  if per_tool.get("make") and per_tool["make"]["ms"] else None)
            if make_ms:
                ratio = f"{statistics.median(swbpf_acc['ms']) / make_ms:.2f}×"
        if case.key == "noop":
            notes.insert(0, "nothing changed")
        elif case.key == "touch":
            notes.insert(0, "mtime only, content unchanged")
        elif case.key in ("edit", "edit-gold", "helper-c"):
            notes.insert(0, "appended a new function")
        elif case.key == "cold":
            notes.insert(0, "libbpf and bpftool built from the trees, vmlinux.h vendored" if kind == "trees"
                         else "includes vmlinux.h generation")
        out.append("| " + " | ".join([case.label] + cells_ms + [ratio] + cells_steps + ["; ".join(notes)]) + " |")
    out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description="Time make vs swbpf on generated libbpf projects.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case and tool (default 5)")
    ap.add_argument("--jobs", "-j", type=int, default=2, help="parallel jobs for both tools (default 2)")
    ap.add_argument("--kinds", default="bootstrap,shared,trees", help="comma list: bootstrap,shared,trees")
    ap.add_argument("--apps-bootstrap", type=int, default=14)
    ap.add_argument("--apps-shared", type=int, default=50)
    ap.add_argument("--apps-trees", type=int, default=5)
    ap.add_argument("--trees", default=os.path.join(os.path.dirname(REPO), "shared", "sources"),
                    help="trees kind: the folder holding the libbpf/, bpftool/ and vmlinux.h/ source trees "
                    "(default: ../shared/sources beside the repository)")
    ap.add_argument("--tools", default="make,swbpf", help="comma list: make,swbpf (default both)")
    ap.add_argument("--cases", default="", help="comma list of case keys (default all): "
                    "cold,cold-vendored,cold-pch,clone-local,clone-lesson,clone-remote,noop,touch,edit,edit-gold,edit-bpf,header,helper-c,helper-h")
    ap.add_argument("--swbpf", help="swbpf binary (default: $SWBPF, else swift build -c release)")
    ap.add_argument("--workdir", help="where to put the projects (default: a new temp dir, removed at the end)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--json", help="also write every timed run to this JSON file")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per build (default 1800)")
    args = ap.parse_args()
    args.cases = {c for c in args.cases.split(",") if c}
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if unknown := [k for k in kinds if k not in ALL_KINDS]:
        ap.error(f"unknown kind {unknown[0]} (the kinds are {', '.join(sorted(ALL_KINDS))})")
    if "trees" in kinds and not os.path.isdir(args.trees):
        ap.error(f"the trees kind needs libbpf and bpftool source trees, and {args.trees} is not a folder: "
                 "pass --trees DIR (a folder holding libbpf/, bpftool/ and vmlinux.h/), or leave the kind out "
                 "with --kinds bootstrap,shared")

    j = str(args.jobs)
    tools = []
    for name in [t.strip() for t in args.tools.split(",") if t.strip()]:
        if name == "make":
            tools.append(Tool("make", lambda d: ["make", f"-j{j}"]))
        elif name == "swbpf":
            swbpf = installed_copy(resolve_swbpf(args))
            tools.append(Tool("swbpf", lambda d, s=swbpf: [s, "build", "-C", d, "-j", j]))
        else:
            ap.error(f"unknown tool {name}")
    if not tools:
        ap.error("no tools")

    # SIGTERM/SIGHUP: unwind like Ctrl-C, so the build is killed and the temp dir removed.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    root = args.workdir or tempfile.mkdtemp(prefix="swbpf-bench-")
    os.makedirs(root, exist_ok=True)
    log(f"work dir: {root}")
    raw = []
    sections = []
    nginx = None
    try:
        wanted = args.cases or {"clone-remote"}
        if "clone-remote" in wanted and APP_KINDS & set(kinds) and any(t.name == "swbpf" for t in tools):
            nginx = Nginx(root)
        for kind in kinds:
            napps = {"bootstrap": args.apps_bootstrap, "shared": args.apps_shared, "trees": args.apps_trees}[kind]
            rows, apps, header_units = bench_kind(kind, napps, tools, args, root, raw, nginx)
            sections.append(render(kind, napps, rows, tools, header_units, set(apps)))
    finally:
        if nginx:
            nginx.stop()
        for directory in BINARY_COPIES:
            shutil.rmtree(directory, ignore_errors=True)
        if not args.workdir and not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    env = [
        f"{time.strftime('%Y-%m-%d')}, Linux {platform.release()}, {os.cpu_count()} CPUs, "
        f"{args.runs} runs per case, -j{args.jobs}; times are wall-clock ms, median (min–max).",
        f"{tool_version(['make', '--version'])}; {tool_version(['clang', '--version'])}; "
        f"{tool_version(['bpftool', 'version'])}" +
        "".join(f"; swbpf: {t.argv('.')[0]}" for t in tools if t.name == "swbpf"),
        *[f"swbpf binary: {stripped / 1e6:.1f} MB stripped, as scripts/install installs it "
          f"({size / 1e6:.1f} MB as built)" for _, size, stripped in BINARY_SIZES],
        "Steps are the progress lines each tool printed "
        "(MKDIR, LIBBPF, BPFTOOL, VMLINUX, PCH, BPF, GEN-OBJ, GEN-SKEL, CC, BINARY; CACHED: restored from swbpf's cache). "
        "swbpf / make: swbpf's median over make's, for cold-like cases over make's cold build.",
    ]
    print("\n".join(env) + "\n")
    print("\n".join(sections))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
