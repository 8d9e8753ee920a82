"""scrypt's work factors as production uses them.

The rest of the suite hashes PINs and derives passphrase keys at a low factor
(tests/conftest.py, PRODUCTION_WORK_FACTORS), so these are the tests that the factors a kiosk
really uses are the slow ones, and that a hash keeps the factors it was made with.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk import privacy, security
from kiosk.security import hash_pin, verify_pin
from tests.conftest import PRODUCTION_WORK_FACTORS, TEST_SCRYPT_N


def test_the_suite_lowers_the_factors_only_in_its_own_process() -> None:
    assert PRODUCTION_WORK_FACTORS[security] == (2**14, 8, 1)
    assert PRODUCTION_WORK_FACTORS[privacy] == (2**15, 8, 1)
    assert security.SCRYPT_N == privacy.SCRYPT_N == TEST_SCRYPT_N


@pytest.mark.usefixtures("production_work_factors")
def test_a_pin_is_hashed_at_the_production_factors() -> None:
    stored = hash_pin("1234")
    assert stored.startswith("scrypt$16384$8$1$")
    assert verify_pin("1234", stored)
    assert not verify_pin("1235", stored)


def test_a_hash_is_checked_at_the_factors_stored_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A PIN hashed at the low test factor still checks after the factor is raised (and the
    other way round): the factors travel with the hash, so raising them breaks no PIN."""
    low = hash_pin("4321")
    assert low.startswith(f"scrypt${TEST_SCRYPT_N}$8$1$")
    monkeypatch.setattr(security, "SCRYPT_N", 2**14)
    assert verify_pin("4321", low)
    assert not verify_pin("4322", low)


@pytest.mark.usefixtures("production_work_factors")
def test_a_private_key_is_locked_at_the_production_factors() -> None:
    private = X25519PrivateKey.generate()
    locked = privacy.lock_private_key(private, "a long passphrase")
    assert locked.startswith("scrypt$32768$8$1$")
    opened = privacy.unlock_private_key(locked, "a long passphrase")
    assert opened.private_bytes_raw() == private.private_bytes_raw()
    with pytest.raises(privacy.PrivacyError):
        privacy.unlock_private_key(locked, "another passphrase")
