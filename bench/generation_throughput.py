"""Generation throughput: persona candidates generated and scored per second with a small
random-weight GPT-2 on CPU, batched (the samples of a prompt in one call with the prompt encoded
once, scored pairs in length-sorted batches with left padding) against one prompt at a time (one
call per sample, one forward pass per scored pair), through the TransformersBackend the runs use.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/generation_throughput.py
    HF_HUB_OFFLINE=1 .venv/bin/python bench/generation_throughput.py --candidates 128 --batch-size 64

A candidate is one persona sample (the paper's sampling: temperature 1.4, top_p 0.975; 24 new
tokens, about a released statement's length, without stop strings unless --stop, because a random
model's stop tokens fall at random) plus its two discriminator scores (the replies " agree
with the above statement." and " disagree ..." after the discriminator prompt). Each mode runs
--repeats times and the fastest of each phase is reported, because the CPUs are shared. Target: batched at least 5x one-at-a-time.
With --device cuda --dtype bf16 and a larger --n-embd/--n-layer the same on a GPU.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def build_model(directory: Path, *, n_embd: int, n_layer: int, n_head: int) -> int:
    from tests.generation.tiny_models import build_random_model

    return build_random_model(directory, n_embd=n_embd, n_layer=n_layer, n_head=n_head, n_positions=1024)


def measure(backend, *, candidates: int, per_prompt: int, seed: int, max_new_tokens: int, stop: tuple) -> dict:
    from generation.pipelines import persona

    pipeline = persona.PersonaPipeline({"behavior": "is very punctual"})
    p = pipeline.p
    prompt = persona.GENERATE.format(description=pipeline.description(), verb="agree", other="disagree")
    began = time.perf_counter()
    texts = []
    for start in range(0, candidates, per_prompt):
        n = min(per_prompt, candidates - start)
        out = backend.generate(
            [prompt], n=n, temperature=p["temperature"], top_p=p["top_p"], max_new_tokens=max_new_tokens,
            stop=stop, seed=seed + start,
        )  # fmt: skip
        texts.extend(out[0])
    generated = time.perf_counter()
    statements = [(t.strip() or "I am on time") for t in texts]
    pairs = [
        (persona.DISCRIMINATE.format(description=pipeline.description(), statement=s), c)
        for s in statements
        for c in (" agree", " disagree")
    ]
    backend.score_pairs(pairs)
    scored = time.perf_counter()
    return {
        "generate_s": generated - began,
        "score_s": scored - generated,
        "total_s": scored - began,
        "per_s": candidates / (scored - began),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=64, help="Candidates per mode (default 64).")
    parser.add_argument("--batch-size", type=int, default=32, help="Rows per forward pass when batched (default 32).")
    parser.add_argument("--n-embd", type=int, default=256)
    parser.add_argument("--n-layer", type=int, default=4)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-new-tokens", type=int, default=24, help="Tokens per candidate (default 24).")
    parser.add_argument(
        "--stop", action="store_true",
        help="Stop at the persona stop strings. Off by default: a random model emits them at random, so the work "
        "per candidate would be noise; with them a batch runs until its longest row stops.",
    )  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3, help="Runs per mode; the fastest is reported (shared CPUs).")
    args = parser.parse_args()

    import torch

    from generation.backends.local import TransformersBackend

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        params = build_model(Path(tmp), n_embd=args.n_embd, n_layer=args.n_layer, n_head=args.n_head)
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(
            f"model: random GPT-2, n_embd={args.n_embd} n_layer={args.n_layer} n_head={args.n_head}, "
            f"{params / 1e6:.2f} M parameters; device {args.device}; torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
        )
        modes = {"batched": args.batch_size, "one at a time": 1}
        backends = {m: TransformersBackend(tmp, device=args.device, batch_size=size) for m, size in modes.items()}
        work = {"max_new_tokens": args.max_new_tokens, "stop": ("\n", ".", " -") if args.stop else ()}
        # Batched: n samples per call, the prompt encoded once, batch_size rows per forward pass.
        # One at a time: one call per sample and one forward pass per scored pair.
        per_prompt = {"batched": args.batch_size, "one at a time": 1}
        runs: dict[str, list[dict]] = {m: [] for m in modes}
        for backend in backends.values():
            measure(backend, candidates=min(4, args.candidates), per_prompt=2, seed=99, **work)  # warm-up
        for _ in range(args.repeats):  # interleaved, so both modes see the same neighbours on shared CPUs
            for m, backend in backends.items():
                runs[m].append(measure(backend, candidates=args.candidates, per_prompt=per_prompt[m], seed=args.seed, **work))
        results = {}
        for m, size in modes.items():
            r = {key: min(x[key] for x in runs[m]) for key in ("generate_s", "score_s", "total_s")}
            r["per_s"] = args.candidates / r["total_s"]
            results[m] = r
            print(
                f"{m:>14} (batch {size:>3}): {args.candidates} candidates in {r['total_s']:.2f} s "
                f"(generate {r['generate_s']:.2f} s, score {r['score_s']:.2f} s): {r['per_s']:.2f} candidates/s"
            )
        b, o = results["batched"], results["one at a time"]
        print(
            f"ratio batched / one at a time: {b['per_s'] / o['per_s']:.1f}x "
            f"(generate {o['generate_s'] / b['generate_s']:.1f}x, score {o['score_s'] / b['score_s']:.1f}x; target >= 5x)"
        )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
