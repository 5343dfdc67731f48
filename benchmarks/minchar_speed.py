"""Characters per second of the faithful min-char-rnn and of its batched twin, and the loss each reaches after the
same number of characters of tiny-shakespeare. Prints a Markdown table.

    RNNBOOK_DATA=../shared/data .venv/bin/python benchmarks/minchar_speed.py [--chars 500000] [--batch-size 32]

Both run in this one process, interleaved in rounds (faithful, twin float64, twin float32, then again), so that a
machine busy with other work slows all of them alike. Training text: the first 90% of tiny-shakespeare; the
validation loss is measured on the last 10%. Sampling is switched off (the listing samples 200 characters every
100 iterations; that is not training). The twin runs with one BLAS thread (its default, best on a machine busy with
other work) and, in a last row, with two (best on a quiet 2-core machine); the faithful port with numpy's default.

Two losses per character are reported:
- "train": the mean loss of the chunks of the last 10% of characters seen, each measured before the update that
  used it (an online, never-seen-before measure);
- "val": the loss on the held-out last 10% of the text, from zero memory, under the final parameters.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from rnnbook.data import load_text
from rnnbook.minchar import MinCharRNN
from rnnbook.minchar_batched import BatchedMinCharRNN, loss_per_char


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=500_000, help="characters each model trains on")
    parser.add_argument("--batch-size", type=int, default=32, help="streams of the twin (B)")
    parser.add_argument("--twin-lr", type=float, default=0.05, help="Adagrad learning rate of the twin")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    text = load_text("tinyshakespeare", progress=False)
    cut = int(len(text) * 0.9)
    train, val = text[:cut], text[cut:]
    T, B = 25, args.batch_size
    per_round = max(1, args.chars // (args.rounds * B * T)) * B * T  # a whole number of twin updates
    n_chars = per_round * args.rounds

    runs = {
        "faithful (listing), float64": MinCharRNN(train, seed=args.seed),
        f"twin B={B}, float64": BatchedMinCharRNN(train, B, learning_rate=args.twin_lr, seed=args.seed),
        f"twin B={B}, float32": BatchedMinCharRNN(train, B, learning_rate=args.twin_lr, dtype=np.float32,
                                                  seed=args.seed),
        f"twin B={B}, float32, 2 BLAS threads": BatchedMinCharRNN(train, B, learning_rate=args.twin_lr,
                                                                  dtype=np.float32, seed=args.seed, threads=2),
    }
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, model in runs.items():
            start = time.perf_counter()
            if isinstance(model, MinCharRNN):
                model.train(per_round // T, sample_every=0)
            else:
                model.train(per_round // (B * T))
            seconds[name].append(time.perf_counter() - start)

    faithful = next(iter(runs))
    val_ids = np.array([runs[faithful].char_to_ix[c] for c in val])
    print(f"min-char-rnn on tiny-shakespeare: {n_chars:,} training characters each, H=100, seq_length={T}; "
          f"twin learning rate {args.twin_lr} (listing: 0.1)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the end; numpy {np.__version__}\n")
    print("| run | updates | seconds | chars/s | speed-up (median of rounds) | train loss/char (last 10%) "
          "| held-out loss/char |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, model in runs.items():
        tail = max(1, len(model.losses) // 10)
        train_loss = float(np.mean(model.losses[-tail:])) / T
        val_loss = loss_per_char(model.params, val_ids)
        total = sum(seconds[name])
        speedup = float(np.median(np.array(seconds[faithful]) / np.array(seconds[name])))
        print(f"| {name} | {model.n:,} | {total:.1f} | {n_chars / total:,.0f} | {speedup:.1f}x | "
              f"{train_loss:.3f} | {val_loss:.3f} |")
    print(f"\nuniform guess: ln V = {np.log(runs[faithful].vocab_size):.3f} nats/char")


if __name__ == "__main__":
    main()
