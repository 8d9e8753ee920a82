"""Sync with the bank's central points ledger (issue #8): the contract, the reference ledger,
snapshot pull, idempotent outbox push and merchant bundles. Nothing lives here yet; the
outbox it will push is already written by every service (``kiosk.outbox``)."""
