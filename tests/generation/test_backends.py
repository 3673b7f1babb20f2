"""The real transformers and HTTP code paths, on tiny local models and a loopback server."""

import pytest

from generation.backends import BackendError, TransientBackendError, backend_load, cut_at_stop
from tests.generation.fake_openai import serve

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


def test_samples_of_one_prompt_reuse_its_encoded_prefix_without_changing_them(lm):
    from generation.backends import Sampling

    prompt = "Human: Suppose there is a person who is punctual.\n\nAssistant: Here is a list:\n-"
    sampling = Sampling(n=3, temperature=1.4, top_p=0.975, max_new_tokens=8, seed=5)
    plain = lm._sample(lm._encode([prompt] * 3), None, 5, sampling)  # three rows, each encoding the prompt
    assert lm.generate([prompt], n=3, temperature=1.4, top_p=0.975, max_new_tokens=8, seed=5) == [plain]


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


@pytest.fixture
def server():
    with serve(lambda prompt, i, seed: f" sample {i} of {prompt[:5]}") as (url, state):
        yield url, state


def test_the_http_backend_generates_and_scores_against_an_openai_compatible_server(server):
    url, state = server
    backend = backend_load(kind="openai", model="m", base_url=url, api_key="sk-secret")
    assert backend.generate(["Hello"], n=2, temperature=1.0, top_p=0.9, max_new_tokens=5, stop=("\n",)) == [
        [" sample 0 of Hello", " sample 1 of Hello"]
    ]
    assert backend.score("abc", [" de"]) == [pytest.approx(-1.5)]
    auth, body = state["calls"][0]
    assert auth == "Bearer sk-secret" and body["stop"] == ["\n"] and body["n"] == 2


def test_the_http_backend_retries_transient_errors():
    with serve(lambda prompt, i, seed: " fine", fail_first=2) as (url, state):
        backend = backend_load(kind="openai", model="m", base_url=url)
        backend.backoff = 0.01
        assert backend.generate(["x"], n=1) == [[" fine"]]
        assert len(state["calls"]) == 3


def test_an_unreachable_endpoint_is_a_clear_error_without_the_key():
    backend = backend_load(kind="openai", model="m", base_url="http://127.0.0.1:9/v1", api_key="sk-secret")
    backend.backoff = 0.01
    with pytest.raises(TransientBackendError, match="unreachable") as error:
        backend.generate(["x"], n=1)
    assert "sk-secret" not in str(error.value)
