"""The merchant booth: an offline laptop that verifies and redeems slips (issue #7).

A booth has no event database. It holds its own SQLite file (``store``) with what a merchant
pack brought (event, merchant, offers, public keys, revocations) and what it redeemed. Pack
and bundle file formats are in ``pack`` and ``bundle``; ``Booth`` in ``service`` is what the
booth window and ``kiosk booth`` call. No Qt here, like everywhere under ``kiosk``.
"""
