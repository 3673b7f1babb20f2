"""A fast salted hasher for passwords the service generates itself, never for ones people choose.

Why: PBKDF2 costs ~0.3 s of CPU per password on purpose, so that a stolen hash of a *chosen*
password is slow to guess. `POST /api/v1/workers {"count": 1000}` made 1,000 such hashes inside
one request and held a web process for minutes. The passwords of bulk-created worker accounts are
not chosen: they are `secrets.token_urlsafe(12)`, 96 random bits. Guessing one from its hash takes
about 2^95 tries whatever the hash's cost, so a slow hash buys nothing and one salted SHA-256 is
enough (NIST SP 800-63B asks for a cost factor to protect low-entropy, memorised secrets).

It is registered in PASSWORD_HASHERS after PBKDF2 (qa/settings.py), so it is never the preferred
hasher: Django's check_password re-hashes such a password with PBKDF2 at the first successful
login (one slow hash per account, behind the login throttle), and people who change their
password get PBKDF2 directly. Only annotation.services.workers_bulk_create names it.
"""

import hashlib

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare


class GeneratedPasswordHasher(BasePasswordHasher):
    algorithm = "generated_sha256"

    def encode(self, password, salt):
        self._check_encode_args(password, salt)
        digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        return constant_time_compare(encoded, self.encode(password, self.decode(encoded)["salt"]))

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {"algorithm": decoded["algorithm"], "salt": mask_hash(decoded["salt"], show=2), "hash": mask_hash(decoded["hash"])}

    def harden_runtime(self, password, encoded):
        pass
