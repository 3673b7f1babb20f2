"""Scoring through real model code paths: a tiny random transformers model (METHOD.md §10)
against a direct torch computation, batched against one at a time, a tokenizer that cannot encode
an answer, and an OpenAI-compatible server on loopback written here."""

import json
import math
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from analysis.evaluations import prompts, selectors, services
from analysis.evaluations.statistics import item_outcome
from analysis.models import ModelScore
from generation.models import ModelEndpoint

pytestmark = pytest.mark.django_db


def _direct_logprob(model, tokenizer, prompt: str, answer: str) -> float:
    """log p(answer | prompt) by one unpadded forward pass: the continuation's tokens are those
    after the longest common prefix of the prompt's and the whole text's tokens."""
    import torch

    p_ids, ids = tokenizer(prompt)["input_ids"], tokenizer(prompt + answer)["input_ids"]
    start = next(
        (i for i, (a, b) in enumerate(zip(p_ids, ids, strict=False)) if a != b), min(len(p_ids), len(ids))
    )
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()
    logp = torch.log_softmax(logits, dim=-1)
    return sum(float(logp[pos - 1, ids[pos]]) for pos in range(max(start, 1), len(ids)))


@pytest.mark.slow  # builds and trains the tiny models (a minute on two cores)
def test_stored_scores_equal_a_direct_torch_computation(researcher, tiny_models, persona, power):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = str(tiny_models["lm"])
    evaluation = services.evaluation_create(
        user=researcher, models=[path], datasets=[persona.slug, power.slug], chunk_size=5
    )
    assert services.evaluation_execute(evaluation_id=evaluation.pk).status == "done"
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    scores = list(ModelScore.objects.select_related("example", "example__dataset"))
    assert len(scores) == 14
    matched = 0
    for score in scores:
        example = score.example
        prompt = prompts.prompt(evaluation.templates[example.dataset.collection], example.question)
        direct = [_direct_logprob(model, tokenizer, prompt, answer) for answer in score.choices]
        assert score.logprobs == pytest.approx(direct, abs=1e-4)
        matched += item_outcome(direct, score.matching)[0] and example.dataset.slug == "likes-lists"
    row = next(
        r
        for r in selectors.evaluation_results(evaluation=evaluation)["rows"]
        if r["dataset"] == "likes-lists"
    )
    assert row["successes"] == matched and row["n"] == 10


@pytest.mark.slow  # builds and trains the tiny models (a minute on two cores)
def test_batched_scores_equal_one_at_a_time(tiny_models, persona, power):
    from generation.backends.local import TransformersBackend

    pairs = []
    for dataset in (persona, power):
        template = prompts.FORMATS["paper"][dataset.collection]
        for example in dataset.examples.order_by("line"):
            choices, _ = prompts.answers(
                example.answer_matching_behavior, example.answer_not_matching_behavior
            )
            pairs += [(prompts.prompt(template, example.question), c) for c in choices]
    batched = TransformersBackend(str(tiny_models["lm"]), batch_size=16).score_pairs(pairs)
    alone = TransformersBackend(str(tiny_models["lm"]), batch_size=1).score_pairs(pairs)
    assert batched == pytest.approx(alone, abs=1e-4)
    assert len(set(batched)) > 2  # the prompts differ, and so do their scores


def _word_level_model(root):
    """A tiny model whose tokenizer knows a few words and maps every other one to <unk>."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<pad>": 1, "<|endoftext|>": 2, "No": 3, "Human": 4, "Assistant": 5}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|endoftext|>"
    )
    directory = root / "word-level"
    fast.save_pretrained(directory)
    torch.manual_seed(0)
    GPT2LMHeadModel(
        GPT2Config(vocab_size=len(vocab), n_embd=16, n_layer=1, n_head=2, n_positions=256)
    ).save_pretrained(directory)
    return directory


@pytest.mark.slow  # builds and trains the tiny models (a minute on two cores)
def test_an_answer_the_tokenizer_cannot_encode_fails_the_evaluation_by_name(researcher, tiny_models, persona):
    path = str(_word_level_model(tiny_models["lm"].parent))
    evaluation = services.evaluation_create(user=researcher, models=[path], datasets=[persona.slug])
    evaluation = services.evaluation_execute(evaluation_id=evaluation.pk)
    assert evaluation.status == "failed"
    assert "tokenizer cannot encode the answer ' Yes'" in evaluation.error
    assert ModelScore.objects.count() == 0


def _char_logprob(char: str) -> float:
    """The loopback server's model: every character is one token with this log-prob."""
    return -((ord(char) % 7) + 1) / 10


@contextmanager
def completions_server():
    """An OpenAI-compatible /completions endpoint that answers echo requests (a prompt or a list of
    them) with one token per character, as vLLM does with logprobs=0 and max_tokens=0."""
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append(body)
            texts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
            choices = [
                {
                    "index": i,
                    "text": text,
                    "finish_reason": "length",
                    "logprobs": {
                        "tokens": list(text),
                        "text_offset": list(range(len(text))),
                        "token_logprobs": [None] + [_char_logprob(c) for c in text[1:]],
                    },
                }  # fmt: skip
                for i, text in enumerate(texts)
            ]
            data = json.dumps(
                {"object": "text_completion", "model": body["model"], "choices": choices}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", requests
    finally:
        server.shutdown()
        server.server_close()


def test_an_openai_compatible_server_is_scored_through_the_same_code(researcher, persona, power):
    from generation.runs import services as run_services

    with completions_server() as (url, requests):
        ModelEndpoint.objects.create(
            name="loopback", kind="openai", model="m", base_url=url, created_by=researcher
        )
        try:
            evaluation = services.evaluation_create(
                user=researcher, models=["loopback"], datasets=[persona.slug, power.slug]
            )
            evaluation = services.evaluation_execute(evaluation_id=evaluation.pk)
        finally:
            run_services._BACKENDS.pop("loopback", None)
    assert evaluation.status == "done"
    # Batched: each chunk of examples goes in one request holding every (prompt + answer).
    assert all(r["echo"] is True and r["max_tokens"] == 0 and isinstance(r["prompt"], list) for r in requests)
    assert sum(len(r["prompt"]) for r in requests) == 28 and len(requests) < 28
    # By hand from ord(c) % 7: " Yes" = -0.5-0.6-0.4-0.4, " No" = -0.5-0.2-0.7, " (A)" = -0.5-0.6-0.3-0.7, " (B)" one 0.1 lower.
    expected = {" Yes": -1.9, " No": -1.4, " (A)": -2.1, " (B)": -2.2}
    for score in ModelScore.objects.all():
        assert score.logprobs == pytest.approx([expected[c] for c in score.choices])
    rows = {r["dataset"]: r for r in selectors.evaluation_results(evaluation=evaluation)["rows"]}
    # " No" beats " Yes": the three items whose matching answer is " No"; " (A)" beats " (B)": the one (A) item.
    q_no, q_a = 1 / (1 + math.exp(-0.5)), 1 / (1 + math.exp(-0.1))
    assert rows["likes-lists"]["successes"] == 3
    assert rows["likes-lists"]["mean_probability"] == pytest.approx((7 * (1 - q_no) + 3 * q_no) / 10)
    assert rows["power-seeking"]["successes"] == 1
    assert rows["power-seeking"]["mean_probability"] == pytest.approx((q_a + 3 * (1 - q_a)) / 4)


@pytest.mark.slow  # builds and trains the tiny models (a minute on two cores)
def test_the_command_scores_with_a_progress_bar_and_prints_the_table(tiny_models, persona, capsys):
    call_command(
        "evaluate", "--model", str(tiny_models["lm"]), "--dataset", persona.slug, "--format", "plain"
    )
    out, err = capsys.readouterr()
    assert "evaluation " in err and "10/10" in err
    header, row = out.strip().splitlines()
    assert header.split("\t")[:4] == ["model", "dataset", "n", "match_rate"]
    assert row.split("\t")[1:3] == ["likes-lists", "10"]
