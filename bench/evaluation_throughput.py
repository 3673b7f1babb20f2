"""Evaluation throughput: items of the public release scored per second on CPU with the tiny random
GPT-2 the tests build, batched (both answers of many items in length-sorted, left-padded batches,
as evaluations run) against one at a time (one forward pass per answer), through the
TransformersBackend.score_pairs that analysis.evaluations calls, with the paper's prompt. A third
mode batches every (prompt, answer) whole, encoding the prompt once per answer (the path before
an item's answers shared one encoding of its prompt), to show what each step gives.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/evaluation_throughput.py
    HF_HUB_OFFLINE=1 .venv/bin/python bench/evaluation_throughput.py --items 512 --batch-size 64 --n-embd 128 --n-layer 4

Items are the first --items lines of the release's persona and advanced-ai-risk files
(../shared/data/model-written-evals/), mixed; an item is its two (or more) answers scored. Each
mode runs --repeats times and the fastest is reported, because the CPUs are shared. Baseline: one
at a time. Both modes must give the same scores (checked to 1e-4).
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
DATA = ROOT.parent / "shared" / "data" / "model-written-evals"


def load_items(count: int) -> list[tuple[str, list[str]]]:
    from analysis.evaluations import prompts

    files = (
        sorted((DATA / "persona").glob("*.jsonl"))[:8]
        + sorted((DATA / "advanced-ai-risk").rglob("*.jsonl"))[:8]
    )
    if not files:
        raise SystemExit(f"no release files under {DATA}")
    per_file = max(1, count // len(files) + 1)
    items = []
    for path in files:
        collection = "persona" if "persona" in path.parts else "advanced-ai-risk"
        template = prompts.FORMATS["paper"][collection]
        with path.open(encoding="utf-8") as f:
            for _, line in zip(range(per_file), f, strict=False):
                record = json.loads(line)
                choices, _ = prompts.answers(
                    record["answer_matching_behavior"], record["answer_not_matching_behavior"]
                )
                items.append((prompts.prompt(template, record["question"]), choices))
    return items[:count]


def build_model(directory: Path, *, n_embd: int, n_layer: int, n_head: int) -> int:
    from tests.generation.tiny_models import build_random_model

    return build_random_model(directory, n_embd=n_embd, n_layer=n_layer, n_head=n_head, n_positions=2048)


def timed(score, pairs, repeats: int) -> tuple[float, list[float]]:
    best, scores = float("inf"), []
    for _ in range(repeats):
        began = time.perf_counter()
        scores = score(pairs)
        best = min(best, time.perf_counter() - began)
    return best, scores


def whole(backend):
    """Batched, but every (prompt, answer) encoded whole: the path before prompts were shared."""

    def score(pairs):
        prompt_ids = backend.tokenizer([p for p, _ in pairs])["input_ids"]
        full_ids = backend.tokenizer([p + c for p, c in pairs])["input_ids"]
        scores = [0.0] * len(pairs)
        backend._score_whole(range(len(pairs)), prompt_ids, full_ids, scores)
        return scores

    return score


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-embd", type=int, default=32)
    parser.add_argument("--n-layer", type=int, default=2)
    parser.add_argument("--n-head", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qa.settings")
    django.setup()
    import torch

    from generation.backends.local import TransformersBackend

    if args.threads:
        torch.set_num_threads(args.threads)
    items = load_items(args.items)
    pairs = [(prompt, c) for prompt, choices in items for c in choices]
    with tempfile.TemporaryDirectory() as tmp:
        parameters = build_model(Path(tmp), n_embd=args.n_embd, n_layer=args.n_layer, n_head=args.n_head)
        batched = TransformersBackend(tmp, device="cpu", batch_size=args.batch_size)
        alone = TransformersBackend(tmp, device="cpu", batch_size=1)  # one call, one forward pass per answer
        t_batched, s_batched = timed(batched.score_pairs, pairs, args.repeats)
        t_whole, s_whole = timed(whole(batched), pairs, args.repeats)
        t_alone, s_alone = timed(lambda ps: [alone.score_pairs([p])[0] for p in ps], pairs, args.repeats)
    worst = max(abs(a - b) for a, b in zip(s_batched + s_whole, s_alone + s_alone, strict=True))
    assert worst < 1e-4, f"batched and one-at-a-time scores differ by {worst}"
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(
        f"machine: nproc={os.cpu_count()} cpu={cpu!r} torch={torch.__version__} threads={torch.get_num_threads()}"
    )
    print(
        f"model: GPT-2 n_embd={args.n_embd} n_layer={args.n_layer} ({parameters:,} parameters), float32, CPU"
    )
    print(
        f"items: {len(items)} ({len(pairs)} answers), mean prompt {sum(len(p) for p, _ in items) / len(items):.0f} characters"
    )
    print(f"batched (batch {args.batch_size}): {len(items) / t_batched:8.1f} items/s  ({t_batched:.3f} s)")
    print(f"batched, prompt encoded per answer: {len(items) / t_whole:8.1f} items/s  ({t_whole:.3f} s)")
    print(f"one at a time (baseline): {len(items) / t_alone:8.1f} items/s  ({t_alone:.3f} s)")
    print(
        f"ratio batched / one at a time: {t_alone / t_batched:.1f}x  (largest score difference {worst:.1e})"
    )
    print(f"ratio batched, prompt encoded per answer / one at a time: {t_alone / t_whole:.1f}x")


if __name__ == "__main__":
    main()
