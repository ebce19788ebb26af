#!/usr/bin/env python3
"""What ptxas made of each CUDA kernel, without a GPU: registers, shared memory, stack and spills per kernel,
the warps per SM its registers allow on sm_90, and (where cuobjdump and nvdisasm are on PATH) the instruction
mix of its main loop in SASS (mma.sync as HMMA, wgmma as HGMMA, cp.async as LDGSTS). Static facts for reading
GPU timings, not timings.

    bench/kernel_resources.py BUILD_DIR [NAME_REGEX] > table.md

BUILD_DIR is a CUDA build (its compile_commands.json gives each kernel file's exact nvcc command, which is rerun
into a temporary directory with -Xptxas -v). The CUDA toolkit's pip wheels nvidia-cuda-cuobjdump and
nvidia-cuda-nvdisasm provide the SASS tools where the toolkit lacks them.
"""
import collections
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

REGISTERS_PER_SM, MAX_WARPS_PER_SM, REGISTER_UNIT = 65536, 64, 256  # sm_90; registers go to warps in 256s


def demangle(names):
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True)
    return dict(zip(names, out.stdout.splitlines()))


def short(name):
    name = re.sub(r"sc::cuda::(\(anonymous namespace\)::)?", "", name)
    name = re.sub(r"sc::", "", name)
    return re.sub(r"\(.*\)$", "", name)  # drop the parameter list


def ptxas_report(log):
    """{mangled name: {registers, smem, stack, spill_stores}} from -Xptxas -v output."""
    kernels, current = {}, None
    for line in log.splitlines():
        m = re.search(r"Compiling entry function '(\S+)'", line)
        if m:
            current = m.group(1)
            kernels[current] = {"registers": 0, "smem": 0, "stack": 0, "spill_stores": 0}
            continue
        if current is None:
            continue
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores", line)
        if m:
            kernels[current]["stack"], kernels[current]["spill_stores"] = int(m.group(1)), int(m.group(2))
        m = re.search(r"Used (\d+) registers", line)
        if m:
            kernels[current]["registers"] = int(m.group(1))
            s = re.search(r"(\d+) bytes smem", line)
            kernels[current]["smem"] = int(s.group(1)) if s else 0
    return kernels


def sass_functions(obj):
    """{mangled name: [(address, instruction)]} from cuobjdump -sass."""
    text = subprocess.run(["cuobjdump", "-sass", obj], capture_output=True, text=True, check=True).stdout
    funcs, current = {}, None
    for line in text.splitlines():
        m = re.match(r"\s*Function : (\S+)", line)
        if m:
            current = funcs.setdefault(m.group(1), [])
            continue
        m = re.match(r"\s*/\*([0-9a-f]{4,})\*/\s+(.*?);", line)
        if m and current is not None:
            current.append((int(m.group(1), 16), m.group(2).strip()))
    return funcs


def opcode(instruction):
    return re.sub(r"^@!?U?P\w+\s+", "", instruction).split()[0].split(".")[0]


def main_loop(instructions):
    """The instructions of the largest backward branch's span: the kernel's main loop, statically."""
    best = []
    for address, instruction in instructions:
        m = re.search(r"\bBRA (0x[0-9a-f]+)", instruction)
        if m and int(m.group(1), 16) < address:
            target = int(m.group(1), 16)
            body = [i for a, i in instructions if target <= a <= address]
            if len(body) > len(best):
                best = body
    return best


def warps_per_sm(registers):
    per_warp = -(-registers * 32 // REGISTER_UNIT) * REGISTER_UNIT
    return min(MAX_WARPS_PER_SM, REGISTERS_PER_SM // per_warp) if per_warp else MAX_WARPS_PER_SM


def compile_and_read(entry, tmp, sass):
    """[(file, kernel, ptxas info, SASS size, main-loop opcodes)] for one kernel file, compiled as the build does."""
    args = shlex.split(entry["command"])
    obj = os.path.join(tmp, os.path.basename(entry["file"]) + ".o")
    args[args.index("-o") + 1] = obj
    run = subprocess.run(args + ["-Xptxas", "-v"], cwd=entry["directory"], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"{entry['file']}: nvcc failed:\n{run.stderr}")
    kernels = ptxas_report(run.stderr + run.stdout)
    funcs = sass_functions(obj) if sass else {}
    names = demangle(list(kernels))
    return [(os.path.basename(entry["file"]), short(names[m]), info, len(funcs.get(m, [])),
             collections.Counter(opcode(i) for i in main_loop(funcs.get(m, [])))) for m, info in kernels.items()]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build, pattern = sys.argv[1], re.compile(sys.argv[2] if len(sys.argv) > 2 else ".")
    with open(os.path.join(build, "compile_commands.json")) as f:
        commands = [e for e in json.load(f) if e["file"].endswith(".cu") and "/kernels/cuda/" in e["file"]]
    if not commands:
        sys.exit(f"{build}: no kernels/cuda/*.cu in compile_commands.json (a CUDA build?)")
    sass = shutil.which("cuobjdump") is not None and shutil.which("nvdisasm") is not None
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(os.cpu_count()) as pool:
        reports = pool.map(lambda e: compile_and_read(e, tmp, sass), sorted(commands, key=lambda e: e["file"]))
        rows = [row for report in reports for row in report if pattern.search(row[1])]
    header = "| file | kernel | registers | warps/SM by registers | static smem B | stack B | spill B |"
    rule = "|---|---|---:|---:|---:|---:|---:|"
    if sass:
        header += " SASS | main loop (static) | HMMA | LDSM | LDS | LDG | HGMMA | LDGSTS |"
        rule += "---:|---:|---:|---:|---:|---:|---:|---:|"
    print(header)
    print(rule)
    for file, name, info, total, loop in rows:
        line = (f"| {file} | `{name}` | {info['registers']} | {warps_per_sm(info['registers'])} | {info['smem']} | "
                f"{info['stack']} | {info['spill_stores']} |")
        if sass:
            line += (f" {total} | {sum(loop.values())} | {loop['HMMA']} | {loop['LDSM']} | {loop['LDS']} | "
                     f"{loop['LDG']} | {loop['HGMMA']} | {loop['LDGSTS']} |")
        print(line)


if __name__ == "__main__":
    main()
