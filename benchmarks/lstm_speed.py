"""Forward + backward time of the from-scratch LSTM (``rnnbook.cells``) against ``torch.nn.LSTM`` on the CPU.
Prints a Markdown table with the ratio (target: at most 1.5x the time of torch.nn.LSTM).

    .venv/bin/python benchmarks/lstm_speed.py [--rounds 10] [--threads default 1] [--compile]

One layer, batch 64, length 64, input and hidden size 256, float32. The scratch LSTM gets torch.nn.LSTM's weights
(so both compute the same function; the script checks it), and each round times one forward + backward of each
implementation, interleaved, so that a machine busy with other work slows them alike; the table gives medians.
Each thread setting runs in a fresh process: ``default`` = torch's choice (one thread per core), or a number.
On a 2-core machine busy with other work, two threads make every small matrix product wait for the other thread
(10-20x slower); the scratch LSTM does one small product per step forward and two backward, torch.nn.LSTM one kernel
per sequence, so the ratio at ``default`` depends on the machine's load more than on the code.
``--compile`` adds the scratch LSTM under ``torch.compile`` (inductor; compiling takes a minute or two, offline).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

N, T, H = 64, 64, 256


def measure(rounds: int, threads: str, use_compile: bool) -> dict:
    """Time every implementation ``rounds`` times in this process; return the medians in ms and a check."""
    import torch

    from rnnbook.cells import StackedRNN, copy_from_torch

    if threads != "default":
        torch.set_num_threads(int(threads))
    torch.manual_seed(0)
    x = torch.randn(N, T, H)
    reference = torch.nn.LSTM(H, H, batch_first=True)
    scratch = copy_from_torch(StackedRNN.of("lstm", H, H), reference)
    runs = {"torch.nn.LSTM": reference, "scratch (rnnbook.cells, eager)": scratch}
    if use_compile:
        runs["scratch + torch.compile"] = torch.compile(scratch)

    def forward_backward(model) -> torch.Tensor:
        x_ = x.clone().requires_grad_()
        out, _ = model(x_)
        out.sum().backward()
        return out.detach()

    outputs = {name: forward_backward(model) for name, model in runs.items()}  # warm-up (and compile)
    max_diff = max(float((out - outputs["torch.nn.LSTM"]).abs().max()) for out in outputs.values())
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, model in runs.items():
            start = time.perf_counter()
            forward_backward(model)
            times[name].append((time.perf_counter() - start) * 1e3)
    return {"threads": torch.get_num_threads(), "max_diff": max_diff, "torch": torch.__version__,
            "ms": {name: statistics.median(t) for name, t in times.items()},
            "ratio": {name: statistics.median(a / b for a, b in zip(t, times["torch.nn.LSTM"]))
                      for name, t in times.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds per implementation")
    parser.add_argument("--threads", nargs="+", default=["default", "1"],
                        help="thread settings (default or a number), each in a fresh process")
    parser.add_argument("--compile", action="store_true", help="also time the scratch LSTM under torch.compile")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:  # one thread setting, in a fresh process: print the result as JSON
        print(json.dumps(measure(args.rounds, args.worker, args.compile)))
        return

    rows = []
    for threads in args.threads:
        cmd = [sys.executable, __file__, "--worker", threads, "--rounds", str(args.rounds)]
        cmd += ["--compile"] if args.compile else []
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))

    print(f"LSTM forward + backward, batch {N}, length {T}, input = hidden = {H}, float32, CPU; "
          f"median of {args.rounds} interleaved rounds; torch {rows[0]['torch']}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| threads | implementation | ms per forward + backward | ratio to torch.nn.LSTM | max abs diff of outputs |")
    print("|---:|---|---:|---:|---:|")
    for row in rows:
        for name, ms in row["ms"].items():
            print(f"| {row['threads']} | {name} | {ms:.1f} | {row['ratio'][name]:.2f}x | {row['max_diff']:.1e} |")


if __name__ == "__main__":
    main()
