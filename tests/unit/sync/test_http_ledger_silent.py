"""The HTTPS ledger client on a service that takes the connection and never answers (issue
#26): a call ends within its bound with a sentence, and tries no more once the bound is spent.

A listening socket that is never accepted is such a peer: the kernel completes the TCP
handshake and takes the request's bytes, and nothing ever comes back. The test checks that
the call ends (a thread joined with a limit only a hang reaches), not how fast.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from kiosk import netwait
from sync.http_ledger import HttpLedger
from sync.ledger import LedgerError


@pytest.fixture
def silent_url() -> Iterator[str]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_silent_ledger_ends_the_call_within_the_bound_with_a_sentence(silent_url: str) -> None:
    ledger = HttpLedger(silent_url, "token", "DEMO", read_timeout=1.0, tries=5, backoff=0.01)
    outcome: list[BaseException | object] = []

    def calling() -> None:
        try:
            outcome.append(ledger.apply([("slip_voided:DEMO:1", "slip_voided", {"serial": 1})]))
        except BaseException as error:  # read below
            outcome.append(error)

    worker = threading.Thread(target=calling, daemon=True)
    worker.start()
    worker.join(60)
    ledger.dispose()
    assert not worker.is_alive(), "the call to a silent ledger never ended"
    (error,) = outcome
    assert isinstance(error, LedgerError), repr(error)
    assert "did not answer within 1 seconds" in str(error) and "nothing unanswered" in str(error)


def test_the_command_bound_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(netwait.ENV_COMMAND_BOUND, "7.5")
    assert netwait.command_bound() == 7.5
    assert HttpLedger("http://127.0.0.1:9", "t", "DEMO").bound == 7.5
    for wrong in ("", "0", "-3", "nan", "inf", "soon"):
        monkeypatch.setenv(netwait.ENV_COMMAND_BOUND, wrong)
        assert netwait.command_bound() == netwait.COMMAND_BOUND
