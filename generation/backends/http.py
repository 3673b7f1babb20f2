"""OpenAI-compatible completions APIs: vLLM, TGI, llama.cpp server, hosted APIs.

generate uses /completions with n, temperature, top_p, max_tokens, stop and seed; scoring sends
prompt + continuation with echo and logprobs and sums the log-probs of the continuation's tokens
(found by their text offsets), SCORE_BATCH texts per request (the API takes a list of prompts:
one round trip per batch, not per answer, and the server batches them on its accelerator). Transient failures are retried with exponential backoff. The API key
is sent as a bearer token and never logged or put in an error message.
"""

import time

import httpx

from generation.backends import BackendError, Sampling, TransientBackendError

RETRIES = 4
SCORE_BATCH = 32


class OpenAICompatibleBackend:
    def __init__(self, *, base_url: str, model: str, api_key: str = "", timeout: float = 60.0, backoff: float = 0.5):
        if not base_url.startswith(("http://", "https://")):
            raise BackendError(f"base_url: {base_url!r} must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.name = model
        self.backoff = backoff
        self._api_key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(timeout=timeout, headers=headers)

    def describe(self) -> dict:
        return {"kind": "openai", "model": self.name, "base_url": self.base_url}

    def _post(self, path: str, body: dict) -> dict:
        url = f"{self.base_url}{path}"
        for attempt in range(RETRIES + 1):
            try:
                response = self.client.post(url, json=body)
            except (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError) as exc:
                error = TransientBackendError(f"endpoint {self.base_url} is unreachable: {type(exc).__name__}")
            else:
                if response.status_code == 429 or response.status_code >= 500:
                    error = TransientBackendError(f"endpoint {self.base_url} answered {response.status_code}")
                elif response.status_code >= 400:
                    raise BackendError(
                        f"endpoint {self.base_url} refused the request: {response.status_code} {self._hide_key(response.text)[:200]}"
                    )
                else:
                    return response.json()
            if attempt == RETRIES:
                raise error
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _hide_key(self, text: str) -> str:
        """A server may echo the request back in an error; the key never goes into a message."""
        return text.replace(self._api_key, "[API key]") if self._api_key else text

    def generate(self, prompts, *, n=1, temperature=1.0, top_p=1.0, max_new_tokens=48, stop=(), seed=0):
        Sampling(n, temperature, top_p, max_new_tokens, tuple(stop), seed).check()
        results = []
        for index, prompt in enumerate(prompts):
            body = {
                "model": self.name, "prompt": prompt, "n": n, "temperature": temperature, "top_p": top_p,
                "max_tokens": max_new_tokens, "seed": seed + index,
            }  # fmt: skip
            if stop:
                body["stop"] = list(stop)[:4]  # the API takes at most four
            choices = sorted(self._post("/completions", body)["choices"], key=lambda c: c.get("index", 0))
            results.append([c["text"] for c in choices])
        return results

    def score_pairs(self, pairs) -> list[float]:
        pairs = list(pairs)
        scores = []
        for start in range(0, len(pairs), SCORE_BATCH):
            chunk = pairs[start : start + SCORE_BATCH]
            body = {"model": self.name, "prompt": [p + c for p, c in chunk], "max_tokens": 0, "echo": True, "logprobs": 0}
            choices = sorted(self._post("/completions", body).get("choices") or [], key=lambda c: c.get("index", 0))
            if len(choices) != len(chunk):
                raise BackendError(f"endpoint {self.base_url} answered {len(choices)} choices for {len(chunk)} prompts")
            for (prompt, continuation), choice in zip(chunk, choices, strict=True):
                logprobs = choice.get("logprobs") or {}
                total, tokens = 0.0, 0
                for offset, value in zip(logprobs.get("text_offset") or [], logprobs.get("token_logprobs") or [], strict=True):
                    if offset >= len(prompt) and value is not None:
                        total += value
                        tokens += 1
                if continuation and not tokens:
                    raise BackendError(
                        f"endpoint {self.base_url}: no log-probabilities for the answer {continuation!r} "
                        "(the server must support echo with logprobs)"
                    )
                scores.append(total)
        return scores

    def score(self, prompt, continuations) -> list[float]:
        return self.score_pairs([(prompt, c) for c in continuations])

    def reward(self, texts) -> list[float]:
        raise BackendError("reward models are not served by the completions API; use a local classifier path")
