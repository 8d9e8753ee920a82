"""Data files shipped with the app: the CJK font, translations and sounds."""
