"""The password hasher: Argon2id with the OWASP password storage cheat sheet's parameters.

Why not Django's default (PBKDF2-SHA256, 1,000,000 iterations)? It costs ~0.23 s of CPU
per check here, so a deadline rush of 200 sign-ins was 46 CPU-seconds of hashing and
queued everything else behind it (docs/performance.md, "the deadline rush"). Argon2id is
memory-hard: a guess costs an attacker memory as well as time, which GPUs and ASICs cannot
cheapen the way they do PBKDF2's SHA-256 rounds. OWASP lists Argon2id first and gives
m=19 MiB, t=2, p=1 as its minimum configuration, of the same strength as its PBKDF2
figure of 600,000 SHA-256 iterations; here it costs ~0.02 s of CPU and 19 MiB for the
moment of the check, about a tenth of PBKDF2's CPU.

Django's own Argon2PasswordHasher defaults to m=100 MiB, p=8 (~0.18 s of CPU here, and
100 MiB per sign-in in flight: 24 threads at once would want 2.4 GB). The algorithm name
stays "argon2", so the stored hashes are the standard encoding and Django's hasher (or any
Argon2 library) can read them; a hash made with other parameters is re-made with these at
the next sign-in (must_update), as a PBKDF2 hash is (config/settings.py keeps PBKDF2 in
PASSWORD_HASHERS after this one for the accounts made before).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id (Django's Argon2 hasher uses the id variant) with m=19 MiB, t=2, p=1."""

    memory_cost = 19 * 1024  # KiB: 19 MiB, OWASP's minimum for Argon2id
    time_cost = 2  # passes over the memory
    parallelism = 1  # one lane: a sign-in takes one core, the others keep serving
