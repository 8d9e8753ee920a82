"""The booth laptop's side of a merchant booth: verifies and redeems slips (issue #7).

Everything here runs on the booth laptop, which has no event database of its own: its own
SQLite file (``store``) with what a merchant pack brought (event, merchant, offers, public
keys, revocations) and what it redeemed; ``Booth`` in ``booth`` is what the booth window and
``kiosk booth`` call; ``online`` adds the venue LAN, where the booth asks the event database's
services before serving. The event database's side is ``kiosk.services.booths`` (export packs,
import bundles, redeem online); the files that travel between the two are
``kiosk.merchant_pack`` (event -> booth) and ``kiosk.redemption_bundle`` (booth -> event).

A client of ``kiosk.services``, as a station is: it sits above them in the layers contract
(pyproject.toml), so nothing beneath the services imports it. No Qt here, like everywhere
under ``kiosk``.
"""
