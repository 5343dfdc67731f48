"""The command line: ``python -m rnnbook.charlm train|sample|eval`` (also installed as ``rnnbook-charlm``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rnnbook.charlm.checkpoint import CharLMError
from rnnbook.charlm.run import Settings, evaluate_file, sample, train
from rnnbook.errors import DivergenceError

DEFAULTS = Settings()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rnnbook.charlm",
                                description="Train a character-level language model on your own text (char-rnn).")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train on a UTF-8 text file; checkpoints go to --out",
                       description="Train a CharLM (chapter 4's recipe) on INPUT; the last 10 % validates.")
    t.add_argument("input", nargs="?", help="UTF-8 text file (optional with --resume: the run's own file)")
    where = t.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", help="folder for best.pt and last.pt (new, or empty of runs)")
    where.add_argument("--resume", metavar="DIR", help="continue the run in DIR exactly where it stopped")
    t.add_argument("--cell", choices=["lstm", "gru", "rnn"], help=f"recurrent cell ({DEFAULTS.cell})")
    for name, typ, what in [("hidden", int, "units per layer"), ("embed", int, "character embedding size"),
                            ("layers", int, "stacked layers"), ("dropout", float, "dropout between layers"),
                            ("k", int, "TBPTT length: characters per chunk"),
                            ("batch", int, "contiguous rows per update (all processes together)"),
                            ("lr", float, "peak Adam learning rate (2 %% warm-up, then linear decay to 0)"),
                            ("clip", float, "gradient norm clipping"),
                            ("eval_every", int, "updates between validations and checkpoints (at most 2 minutes apart)"),
                            ("seed", int, "seed of every generator")]:
        t.add_argument(f"--{name.replace('_', '-')}", dest=name, type=typ,
                       help=f"{what} ({getattr(DEFAULTS, name)})")
    t.add_argument("--steps", type=int, help="number of updates (2000 when neither --steps nor --minutes)")
    t.add_argument("--minutes", type=float, help="wall-clock budget; the schedule then follows the clock")
    t.add_argument("--device", help="cpu or cuda (default: cuda when present; RNNBOOK_DEVICE)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser("sample", help="write text with a trained model")
    s.add_argument("dir", help="the run folder (--out of train)")
    s.add_argument("--prime", default="\n", help="text the model reads first (a newline)")
    s.add_argument("--temperature", type=float, default=0.8, help="< 1 safer, > 1 more surprising (0.8)")
    s.add_argument("--top-k", type=int, default=None, help="draw from the k most likely characters only (all)")
    s.add_argument("--length", type=int, default=500, help="characters to write after the prime (500)")
    s.add_argument("--seed", type=int, default=0, help="seed of the draw (0)")
    s.add_argument("--checkpoint", choices=["best", "last"], default="best")
    s.add_argument("--device", default="cpu")

    e = sub.add_parser("eval", help="the loss of a trained model on another text")
    e.add_argument("dir", help="the run folder (--out of train)")
    e.add_argument("text", help="UTF-8 text file to score")
    e.add_argument("--checkpoint", choices=["best", "last"], default="best")
    e.add_argument("--skip-unknown", action="store_true", help="drop characters the model never saw")
    e.add_argument("--device", default="cpu")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "train":
            names = [f for f in vars(DEFAULTS)]
            run = train(args.input, args.out or args.resume, resume=args.resume is not None, device=args.device,
                        progress=not args.quiet, **{n: getattr(args, n) for n in names if hasattr(args, n)})
            if run.val:
                step, nats = run.best
                print(f"{run.steps} updates, {run.seconds:.0f} s, {run.chars_per_second:,.0f} characters/s; best "
                      f"validation {nats:.4f} nats/char at update {step}; checkpoints in {run.out}\n"
                      f"sample with: python -m rnnbook.charlm sample {run.out} --prime \"...\"")
        elif args.command == "sample":
            print(sample(args.dir, args.prime, args.length, args.temperature, args.top_k, args.seed, args.checkpoint,
                         args.device))
        else:
            ev = evaluate_file(args.dir, args.text, args.checkpoint, args.skip_unknown, args.device)
            print(f"{args.text}: {ev.nats:.4f} nats/char = {ev.bits:.4f} bits/char, perplexity {ev.perplexity:.2f} "
                  f"(accuracy {ev.accuracy:.3f}, {ev.count:,} characters scored)")
    except (CharLMError, DivergenceError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
