"""The booth gateway: the merchants' booths reach the event database only through it."""
