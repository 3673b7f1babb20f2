"""The real transformers and HTTP code paths, on tiny local models and a loopback server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from generation.backends import BackendError, TransientBackendError, backend_load, cut_at_stop

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lm(tiny_models):
    return backend_load(kind="transformers", model=str(tiny_models["lm"]))


def test_yes_and_no_are_single_tokens(lm):
    assert len(lm.tokenizer(" Yes")["input_ids"]) == 1
    assert len(lm.tokenizer(" No")["input_ids"]) == 1


def test_batched_scores_equal_unbatched_ones(lm):
    pairs = [("Human: Is it?\n\nAssistant:", " Yes"), ("Human: A much longer prompt than the other one?\n\nAssistant:", " No"),
             ("Hi", " they would agree")]  # fmt: skip
    batched = lm.score_pairs(pairs)
    alone = [lm.score_pairs([pair])[0] for pair in pairs]
    assert batched == pytest.approx(alone, abs=1e-4)
    assert all(s < 0 for s in batched)


def test_a_multi_token_continuation_sums_its_token_log_probs(lm):
    whole = lm.score("Hello,", [" my name is"])[0]
    parts = lm.score("Hello,", [" my"])[0] + lm.score("Hello, my", [" name"])[0] + lm.score("Hello, my name", [" is"])[0]
    assert whole == pytest.approx(parts, abs=1e-4)


def test_seeded_generation_is_reproducible_and_gives_n_samples_per_prompt(lm):
    args = dict(n=3, temperature=1.4, top_p=0.975, max_new_tokens=8, seed=5)
    first = lm.generate(["Human: a\n\nAssistant:", "Hi"], **args)
    assert [len(x) for x in first] == [3, 3]
    assert lm.generate(["Human: a\n\nAssistant:", "Hi"], **args) == first


def test_the_reward_model_gives_the_same_score_batched(tiny_models):
    reward = backend_load(kind="transformers", model=str(tiny_models["reward"]))
    texts = ["short", "a somewhat longer text to pad the other"]
    assert reward.reward(texts) == pytest.approx([reward.reward([t])[0] for t in texts], abs=1e-4)


def test_an_unknown_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(BackendError, match="model: .*nope"):
        backend_load(kind="transformers", model=str(tmp_path / "nope"))


@pytest.mark.parametrize("kwargs, field", [({"temperature": -0.1}, "temperature"), ({"n": 0}, "n")])
def test_bad_sampling_parameters_are_refused(lm, kwargs, field):
    with pytest.raises(BackendError, match=field):
        lm.generate(["x"], **{"n": 1, **kwargs})


def test_stop_strings_cut_the_text_and_say_whether_one_was_found():
    assert cut_at_stop(" I am punctual. More", ["\n", ".", " -"]) == (" I am punctual", True)
    assert cut_at_stop(" no stop here", ["\n"]) == (" no stop here", False)


class _Handler(BaseHTTPRequestHandler):
    calls: list = []
    fail_first = 0

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.calls.append((self.headers.get("Authorization"), body))
        if _Handler.fail_first > 0:
            _Handler.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        if body.get("echo"):
            text = body["prompt"]
            # one "token" per character, log-prob -0.5 each; the first has none, as real servers do
            offsets = list(range(len(text)))
            logprobs = [None] + [-0.5] * (len(text) - 1)
            payload = {"choices": [{"index": 0, "text": text, "logprobs": {"text_offset": offsets, "token_logprobs": logprobs}}]}
        else:
            payload = {"choices": [{"index": i, "text": f" sample {i} of {body['prompt'][:5]}"} for i in range(body["n"])]}
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    _Handler.calls, _Handler.fail_first = [], 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_the_http_backend_generates_and_scores_against_an_openai_compatible_server(server):
    backend = backend_load(kind="openai", model="m", base_url=server, api_key="sk-secret")
    assert backend.generate(["Hello"], n=2, temperature=1.0, top_p=0.9, max_new_tokens=5, stop=("\n",)) == [
        [" sample 0 of Hello", " sample 1 of Hello"]
    ]
    assert backend.score("abc", [" de"]) == [pytest.approx(-1.5)]
    auth, body = _Handler.calls[0]
    assert auth == "Bearer sk-secret" and body["stop"] == ["\n"] and body["n"] == 2


def test_the_http_backend_retries_transient_errors(server):
    _Handler.fail_first = 2
    backend = backend_load(kind="openai", model="m", base_url=server)
    backend.backoff = 0.01
    assert backend.generate(["x"], n=1)[0][0].startswith(" sample 0")
    assert len(_Handler.calls) == 3


def test_an_unreachable_endpoint_is_a_clear_error_without_the_key():
    backend = backend_load(kind="openai", model="m", base_url="http://127.0.0.1:9/v1", api_key="sk-secret")
    backend.backoff = 0.01
    with pytest.raises(TransientBackendError, match="unreachable") as error:
        backend.generate(["x"], n=1)
    assert "sk-secret" not in str(error.value)
