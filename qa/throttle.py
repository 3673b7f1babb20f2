"""Failed logins are throttled per account and per client address, in Django's cache, so that the
limit is shared by every web process (Redis with CACHE_URL; on the embedded default a file cache
that the processes of one machine share).

Where: ThrottledModelBackend is the authentication backend, so every way in that checks a password
is covered by one rule: POST /api/v1/auth/token, /login/ and /admin/login/ (and any later one).
Before a password is hashed, the backend asks whether the account or the address has had
LOGIN_FAILURES_PER_ACCOUNT / LOGIN_FAILURES_PER_ADDRESS failures within the current window of
LOGIN_FAILURE_WINDOW_SECONDS; if so it raises LoginThrottled, even for the right password (else
the throttle would only slow a guesser down until the right guess). A failure counts against
both; a success clears the account's count (not the address's: one right password must not reset
an address that is guessing many accounts).

LoginThrottled is DRF's Throttled, so the API answers 429 in its one error shape with Retry-After;
LoginThrottleMiddleware answers the HTML login pages with a 429 page and Retry-After.

The account key is the name as typed, NFKC-normalised and lower-cased: names that cannot be told
apart share one counter. Anyone can lock an account's logins for one window by failing on
purpose; that is the price of per-account throttling, and the window is short.
"""

import hashlib
import math
import time
import unicodedata

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from rest_framework.exceptions import Throttled


class LoginThrottled(Throttled):
    def __init__(self, wait: int):
        super().__init__(
            wait=wait, detail=f"Too many failed logins for this account or address; try again in {wait} seconds."
        )


def client_address(request) -> str:
    """REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = n proxies in front, the address that the farthest
    trusted proxy saw: the n-th X-Forwarded-For entry from the right. Entries left of it were
    written by the client and prove nothing."""
    meta = getattr(request, "META", {})
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return meta.get("REMOTE_ADDR", "")


def _key(kind: str, value: str) -> str:
    return f"login-failures:{kind}:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()[:40]}"


def _counters(request, username) -> list[tuple[str, int]]:
    """(cache key, limit) of each counter this login attempt touches."""
    counters = []
    if username:
        name = unicodedata.normalize("NFKC", str(username)).strip().lower()
        counters.append((_key("account", name), settings.LOGIN_FAILURES_PER_ACCOUNT))
    if request is not None and (address := client_address(request)):
        counters.append((_key("address", address), settings.LOGIN_FAILURES_PER_ADDRESS))
    return counters


def login_throttle_wait(request, username) -> int:
    """Seconds until this account and address may try again; 0 when they may now."""
    now, wait = time.time(), 0
    for key, limit in _counters(request, username):
        found = cache.get_many([key, f"{key}:until"])
        until = found.get(f"{key}:until") or 0
        if found.get(key, 0) >= limit and until > now:
            wait = max(wait, math.ceil(until - now))
    return wait


def login_failure_record(request, username) -> None:
    now, window = time.time(), settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key, _limit in _counters(request, username):
        until = cache.get(f"{key}:until") or 0
        if until <= now:  # the first failure of a new window
            cache.set_many({key: 1, f"{key}:until": now + window}, window)
            continue
        try:
            cache.incr(key)  # atomic on Redis, so concurrent failures all count
        except ValueError:  # expired between the calls
            cache.set(key, 1, window)
        # Some backends' incr re-sets their default timeout: keep the count as long as its window.
        cache.touch(key, max(1, math.ceil(until - now)))


def login_success_record(request, username) -> None:
    cache.delete_many([key for key, _limit in _counters(request, username)[:1]])


class ThrottledModelBackend(ModelBackend):
    """Django's ModelBackend behind the throttle. A failure raises PermissionDenied, which ends
    authenticate() here: no later backend checks the same password again."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if username is None or password is None:
            return None
        wait = login_throttle_wait(request, username)
        if wait:
            raise LoginThrottled(wait)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(request, username)
            raise PermissionDenied
        login_success_record(request, username)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


class LoginThrottleMiddleware:
    """The HTML login pages' 429 (the API's comes from DRF's handling of Throttled)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, LoginThrottled):
            return None
        response = render(request, "qa/login_throttled.html", {"wait": exception.wait}, status=429)
        response["Retry-After"] = str(math.ceil(exception.wait))
        add_never_cache_headers(response)
        return response
