"""Diversity map throughput: all-MiniLM-L6-v2 embeddings per second (batched against one at a
time, the baseline) and UMAP time, on the persona statements of the public release, read from
../shared/data/model-written-evals/persona/ (never copied into the repository). The same
embedder (generation.embeddings.MiniLMEmbedder) and projection (analysis.diversity.projection)
that the map job runs; needs the map extra.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/diversity_map.py
    HF_HUB_OFFLINE=1 .venv/bin/python bench/diversity_map.py --embed 133204 --umap 133204   # the whole release

By default it measures seeded samples and extrapolates to the 133k statements, saying so: on 2
shared CPU cores the whole run takes well over 15 minutes. Embedding time is linear in the
number of examples; UMAP's is fitted as t = a * n^b through two sample sizes.
"""

import argparse
import json
import math
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
PERSONA = ROOT.parent / "shared" / "data" / "model-written-evals" / "persona"


def statements(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                texts.append(record.get("statement") or record.get("question") or "")
    return texts


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = os.getloadavg()[0]
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"nproc {nproc}, {cpu}, load average {load:.2f}"


def embed_rate(model, texts: list[str], batch_size: int) -> tuple[float, float]:
    began = time.perf_counter()
    model.encode(texts, batch_size=batch_size)
    seconds = time.perf_counter() - began
    return len(texts) / seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=PERSONA)
    parser.add_argument(
        "--embed", type=int, default=2048, help="Statements embedded batched (default 2,048)."
    )
    parser.add_argument(
        "--baseline", type=int, default=256, help="Statements embedded one at a time (default 256)."
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--umap", type=int, nargs="+", default=[5000, 20000], help="Sample sizes UMAP is timed on."
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    import torch

    from analysis.diversity.projection import umap_project
    from generation.embeddings import MiniLMEmbedder

    texts = statements(args.folder)
    total = len(texts)
    print(f"machine: {machine()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{total} persona statements in {args.folder}")
    rng = random.Random(args.seed)
    order = list(range(total))
    rng.shuffle(order)
    sample = [texts[i] for i in order]

    began = time.perf_counter()
    model = MiniLMEmbedder(device="cpu")
    print(f"model loaded in {time.perf_counter() - began:.1f} s")
    model.encode(sample[:64], batch_size=64)  # warm-up: first calls allocate
    import warnings

    warnings.filterwarnings("ignore", message="n_jobs value")  # seeded UMAP runs on one thread: said below

    one_rate, one_s = embed_rate(model, sample[: args.baseline], 1)
    print(
        f"baseline, batch size 1: {args.baseline} statements in {one_s:.1f} s = {one_rate:.1f} statements/s"
    )
    batched_rate, batched_s = embed_rate(model, sample[: args.embed], args.batch_size)
    print(
        f"batch size {args.batch_size}: {args.embed} statements in {batched_s:.1f} s = {batched_rate:.1f} statements/s"
    )
    print(f"ratio batched / one at a time: {batched_rate / one_rate:.2f}x")
    print(
        f"embedding all {total}: {total / batched_rate / 60:.1f} min batched, {total / one_rate / 60:.1f} min one at a time"
        + ("" if args.embed >= total else " (extrapolated, linear)")
    )

    largest = max(args.umap)
    # The UMAP sample's vectors, kept outside the repository between runs (they take minutes on a CPU).
    cache = Path(os.environ.get("TMPDIR", "/tmp")) / f"diversity-bench-seed{args.seed}-{largest}.npy"
    if cache.exists():
        vectors = np.load(cache)
        print(f"(the {largest} vectors for UMAP read from {cache})")
    else:
        began = time.perf_counter()
        vectors = model.encode(sample[:largest], batch_size=args.batch_size)
        print(f"(embedded {largest} for UMAP in {time.perf_counter() - began:.1f} s)")
        np.save(cache, vectors)

    # Numba compiles UMAP's and NN-descent's kernels on their first call: a first, untimed fit on
    # the smallest sample takes the same code paths (NN-descent from 4,096 points, spectral start).
    smallest = min(args.umap)
    began = time.perf_counter()
    umap_project(vectors[:smallest], seed=args.seed + 1)
    print(
        f"UMAP first call on {smallest} points (numba compiles its kernels): {time.perf_counter() - began:.1f} s"
    )
    timings = []
    for n in sorted(args.umap):
        began = time.perf_counter()
        xy = umap_project(vectors[:n], seed=args.seed)
        seconds = time.perf_counter() - began
        assert xy.shape == (n, 2)
        timings.append((n, seconds))
        print(f"UMAP on {n} points (seeded: one thread): {seconds:.1f} s")
    if len(timings) >= 2 and timings[-1][0] < total:
        (n1, t1), (n2, t2) = timings[0], timings[-1]
        b = math.log(t2 / t1) / math.log(n2 / n1)
        print(
            f"UMAP on all {total} (extrapolated, t = a * n^{b:.2f} through {n1} and {n2}): {t2 * (total / n2) ** b / 60:.1f} min"
        )


if __name__ == "__main__":
    main()
