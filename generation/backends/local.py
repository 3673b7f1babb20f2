"""Local transformers models: a name or a path, CPU or CUDA, batched with left padding."""

import os
from pathlib import Path

from generation.backends import BackendError, Sampling, cut_at_stop


class TransformersBackend:
    def __init__(self, model: str, *, device: str | None = None, batch_size: int = 16):
        try:
            import torch
            import transformers
        except ImportError:
            raise BackendError("Local models need the 'models' extra: pip install -e '.[models]'") from None
        self.torch = torch
        self.name = model
        self.batch_size = batch_size
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        offline = os.getenv("HF_HUB_OFFLINE") == "1" or Path(model).exists()
        if not Path(model).exists() and offline:
            raise BackendError(f"model: {model!r} is not a local path, and downloads are off (HF_HUB_OFFLINE=1)")
        try:
            config = transformers.AutoConfig.from_pretrained(model, local_files_only=offline)
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(model, local_files_only=offline)
            is_classifier = any(a.endswith("ForSequenceClassification") for a in (config.architectures or []))
            auto = transformers.AutoModelForSequenceClassification if is_classifier else transformers.AutoModelForCausalLM
            self.model = auto.from_pretrained(model, local_files_only=offline, dtype=dtype).to(self.device).eval()
        except (OSError, ValueError) as exc:
            raise BackendError(f"model: cannot load {model!r}: {str(exc).splitlines()[0]}") from None
        self.is_classifier = is_classifier
        self.revision = getattr(config, "_commit_hash", None) or ""
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "left"
        if getattr(self.model.config, "pad_token_id", None) is None:
            self.model.config.pad_token_id = self.tokenizer.pad_token_id

    def describe(self) -> dict:
        return {"kind": "transformers", "model": self.name, "revision": self.revision, "device": self.device}

    def _check_context(self, length: int) -> None:
        limit = getattr(self.model.config, "max_position_embeddings", None) or getattr(self.model.config, "n_positions", None)
        if limit and length > limit:
            raise BackendError(f"model: {self.name} has a context of {limit} tokens; this needs {length} (prompt and new tokens)")

    def _encode(self, texts):
        batch = self.tokenizer(list(texts), return_tensors="pt", padding=True)
        # Only these two: some tokenizers add token_type_ids, which GPT-2 would embed as tokens.
        return {k: batch[k].to(self.device) for k in ("input_ids", "attention_mask")}

    def generate(self, prompts, *, n=1, temperature=1.0, top_p=1.0, max_new_tokens=48, stop=(), seed=0):
        sampling = Sampling(n, temperature, top_p, max_new_tokens, tuple(stop), seed)
        sampling.check()
        if n > 1:
            # n samples of one prompt share its prefix: encode it once and copy the cache per batch.
            return [self._generate_shared(p, i * n, sampling) for i, p in enumerate(prompts)]
        outputs: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            enc = self._encode(prompts[start : start + self.batch_size])
            outputs.extend(self._sample(enc, None, seed + start, sampling))
        return [[o] for o in outputs]

    def _generate_shared(self, prompt: str, first: int, sampling: Sampling) -> list[str]:
        import copy

        from transformers import DynamicCache

        ids = self.tokenizer(prompt, return_tensors="pt")["input_ids"].to(self.device)
        prefix = None
        if ids.shape[1] > 1:
            prefix = DynamicCache()
            with self.torch.no_grad():
                self.model(ids[:, :-1], past_key_values=prefix, use_cache=True)
        outputs: list[str] = []
        for start in range(0, sampling.n, self.batch_size):
            rows = min(self.batch_size, sampling.n - start)
            enc = {"input_ids": ids.repeat(rows, 1), "attention_mask": self.torch.ones_like(ids).repeat(rows, 1)}
            cache = None
            if prefix is not None:
                cache = copy.deepcopy(prefix)
                cache.batch_repeat_interleave(rows)
            outputs.extend(self._sample(enc, cache, sampling.seed + first + start, sampling))
        return outputs

    def _sample(self, enc: dict, cache, seed: int, s: Sampling) -> list[str]:
        torch = self.torch
        self._check_context(enc["input_ids"].shape[1] + s.max_new_tokens)
        torch.manual_seed(seed)
        with torch.no_grad():
            out = self.model.generate(
                **enc,
                past_key_values=cache,
                do_sample=s.temperature > 0,
                temperature=s.temperature if s.temperature > 0 else None,
                top_p=s.top_p if s.temperature > 0 else None,
                max_new_tokens=s.max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                # Stop early; the stop text stays in the output and the pipeline strips it.
                **({"stop_strings": list(s.stop), "tokenizer": self.tokenizer} if s.stop else {}),
            )
        return self.tokenizer.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)

    def score_pairs(self, pairs) -> list[float]:
        """Sum of log p(continuation | prompt) for each pair, batched with left padding; the scores
        come back in the given order. Continuations of one prompt (an item's answers, a candidate's
        replies) share one encoding of the prompt: its KV cache is copied per continuation, so the
        prompt's tokens, nearly all of the work, are computed once, not once per answer. The other
        pairs are batched whole, in order of length, so a batch carries little padding."""
        if self.is_classifier:
            raise BackendError(f"model: {self.name} is a classifier; use it as a reward model")
        pairs = list(pairs)
        if not pairs:
            return []
        prompt_ids = self.tokenizer([p for p, _ in pairs])["input_ids"]
        full_ids = self.tokenizer([p + c for p, c in pairs])["input_ids"]
        self._check_encodable(pairs, prompt_ids, full_ids)
        scores: list[float] = [0.0] * len(pairs)
        groups: dict[str, list[int]] = {}
        for i, (prompt, _) in enumerate(pairs):
            p_ids, ids = prompt_ids[i], full_ids[i]
            # Shareable when the prompt's tokens are a prefix of the whole text's (no token spans
            # the boundary) and the continuation adds at least one token.
            if p_ids and len(ids) > len(p_ids) and _common_prefix(p_ids, ids) == len(p_ids):
                groups.setdefault(prompt, []).append(i)
        shared = {prompt: members for prompt, members in groups.items() if len(members) > 1}
        in_shared = {i for members in shared.values() for i in members}
        self._score_whole([i for i in range(len(pairs)) if i not in in_shared], prompt_ids, full_ids, scores)
        self._score_shared(list(shared.values()), prompt_ids, full_ids, scores)
        return scores

    def _score_whole(self, indexes, prompt_ids, full_ids, scores) -> None:
        torch = self.torch
        order = sorted(indexes, key=lambda i: len(full_ids[i]))
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(full_ids[i]) for i in rows)
            self._check_context(width)
            input_ids = torch.tensor([[pad] * (width - len(full_ids[i])) + full_ids[i] for i in rows], device=self.device)
            mask = torch.tensor([[0] * (width - len(full_ids[i])) + [1] * len(full_ids[i]) for i in rows], device=self.device)
            # Left padding shifts positions: count them from each row's first real token.
            position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.no_grad():
                logits = self.model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids).logits
            # Only the continuation's positions are needed: gather them, then one log_softmax.
            index_row, index_pos, index_tok, owner = [], [], [], []
            for row, i in enumerate(rows):
                ids, offset = full_ids[i], width - len(full_ids[i])
                for pos in range(max(_common_prefix(prompt_ids[i], ids), 1), len(ids)):
                    index_row.append(row)
                    index_pos.append(offset + pos - 1)
                    index_tok.append(ids[pos])
                    owner.append(i)
            if not owner:
                continue
            picked = logits[torch.tensor(index_row), torch.tensor(index_pos)].float()
            values = torch.log_softmax(picked, dim=-1)[torch.arange(len(owner)), torch.tensor(index_tok)].tolist()
            for i, value in zip(owner, values, strict=True):
                scores[i] += value

    def _score_shared(self, groups, prompt_ids, full_ids, scores) -> None:
        """Each group: pairs with one prompt. One pass over a batch of prompts gives the first
        token of every continuation; continuations longer than one token run on from the prompt's
        cache (its rows copied per continuation, right-padded, positions continuing the prompt's)."""
        torch = self.torch
        pad = self.tokenizer.pad_token_id
        groups = sorted(groups, key=lambda g: len(prompt_ids[g[0]]))
        for start in range(0, len(groups), self.batch_size):
            batch = groups[start : start + self.batch_size]
            heads = [prompt_ids[g[0]] for g in batch]
            tails = {i: full_ids[i][len(prompt_ids[i]) :] for g in batch for i in g}
            width = max(len(h) for h in heads)
            self._check_context(width + max(len(t) for t in tails.values()))
            input_ids = torch.tensor([[pad] * (width - len(h)) + h for h in heads], device=self.device)
            mask = torch.tensor([[0] * (width - len(h)) + [1] * len(h) for h in heads], device=self.device)
            position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.no_grad():
                out = self.model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids, use_cache=True)
            first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
            longer = []
            for row, members in enumerate(batch):
                for i in members:
                    scores[i] += float(first[row, tails[i][0]])
                    if len(tails[i]) > 1:
                        longer.append((row, i))
            if not longer:
                continue
            cache = out.past_key_values
            rows = torch.tensor([row for row, _ in longer], device=self.device)
            cache.batch_select_indices(rows)
            steps = max(len(tails[i]) - 1 for _, i in longer)
            fed = [tails[i][:-1] for _, i in longer]  # each token predicts the next one
            ids = torch.tensor([f + [pad] * (steps - len(f)) for f in fed], device=self.device)
            tail_mask = torch.tensor([[1] * len(f) + [0] * (steps - len(f)) for f in fed], device=self.device)
            positions = mask.sum(-1)[rows].unsqueeze(1) + torch.arange(steps, device=self.device)
            with torch.no_grad():
                logits = self.model(
                    input_ids=ids, attention_mask=torch.cat([mask[rows], tail_mask], dim=1), position_ids=positions,
                    past_key_values=cache,
                ).logits  # fmt: skip
            logp = torch.log_softmax(logits.float(), dim=-1)
            for k, (_, i) in enumerate(longer):
                tail = tails[i]
                scores[i] += float(sum(logp[k, t, tail[t + 1]] for t in range(len(tail) - 1)))

    def _check_encodable(self, pairs, prompt_ids, full_ids) -> None:
        """An answer the tokenizer maps to its unknown token, or to no token after the prompt,
        would get a meaningless score: refuse it by name."""
        unk = self.tokenizer.unk_token_id
        for (_prompt, continuation), p_ids, ids in zip(pairs, prompt_ids, full_ids, strict=True):
            tail = ids[max(_common_prefix(p_ids, ids), 1) :]
            if continuation and (not tail or (unk is not None and unk in tail)):
                raise BackendError(f"model: {self.name}'s tokenizer cannot encode the answer {continuation!r}")

    def score(self, prompt: str, continuations) -> list[float]:
        return self.score_pairs([(prompt, c) for c in continuations])

    def reward(self, texts) -> list[float]:
        if not self.is_classifier:
            raise BackendError(f"model: {self.name} is not a sequence classifier (reward model)")
        torch = self.torch
        values: list[float] = []
        for start in range(0, len(texts), self.batch_size):
            enc = self._encode(texts[start : start + self.batch_size])
            position_ids = (enc["attention_mask"].cumsum(-1) - 1).clamp(min=0)
            with torch.no_grad():
                logits = self.model(**enc, position_ids=position_ids).logits
            values.extend(logits[:, 0].float().tolist())
        return values


def _common_prefix(a, b) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


__all__ = ["TransformersBackend", "cut_at_stop"]
