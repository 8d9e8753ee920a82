"""Scanning codes with a camera: Qt Multimedia frames decoded by zxing-cpp.

A laptop's webcam or a document camera replaces the USB scanner when there is none. Frames
arrive many times a second; a few per second are decoded (decoding costs milliseconds), and
the same code seen again within a few seconds is not reported twice, because a customer
holds the invitation in front of the camera for a while.
"""

from __future__ import annotations

import time

import zxingcpp
from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

DECODE_EVERY_S = 0.2
REPEAT_AFTER_S = 3.0


def decode_image(image: QImage) -> list[str]:
    """The texts of every QR code (and other barcode) in ``image``."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = gray.width(), gray.height(), gray.bytesPerLine()
    if width == 0 or height == 0:
        return []
    data = bytes(gray.constBits())[: stride * height]
    pil = Image.frombuffer("L", (width, height), data, "raw", "L", stride, 1)
    return [result.text for result in zxingcpp.read_barcodes(pil) if result.valid]


class CodeFilter:
    """Drops frames between decodes and codes already reported a moment ago."""

    def __init__(self, every_s: float = DECODE_EVERY_S, repeat_after_s: float = REPEAT_AFTER_S):
        self.every_s = every_s
        self.repeat_after_s = repeat_after_s
        self._last_decode = -1e9
        self._seen: dict[str, float] = {}

    def due(self, now: float) -> bool:
        if now - self._last_decode < self.every_s:
            return False
        self._last_decode = now
        return True

    def fresh(self, code: str, now: float) -> bool:
        last = self._seen.get(code)
        self._seen[code] = now
        return last is None or now - last >= self.repeat_after_s


class CameraScanner(QObject):
    """Emits ``decoded(text)`` for each new code the camera sees.

    ``start()`` opens the default camera; ``process(image)`` takes one frame and is what the
    camera's video sink calls (and what tests call with a picture of a code).
    """

    decoded = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.filter = CodeFilter()
        self._camera: object | None = None
        self._session: object | None = None
        self._sink: object | None = None

    @staticmethod
    def available() -> bool:
        try:
            from PySide6.QtMultimedia import QMediaDevices
        except ImportError:
            return False
        return bool(QMediaDevices.videoInputs())

    def start(self) -> None:
        from PySide6.QtMultimedia import QCamera, QMediaCaptureSession, QVideoSink

        camera = QCamera(self)
        session = QMediaCaptureSession(self)
        sink = QVideoSink(self)
        session.setCamera(camera)
        session.setVideoSink(sink)
        sink.videoFrameChanged.connect(lambda frame: self.process(frame.toImage()))
        camera.errorOccurred.connect(lambda _error, text: self.failed.emit(text))
        camera.start()
        self._camera, self._session, self._sink = camera, session, sink

    def stop(self) -> None:
        if self._camera is not None:
            self._camera.stop()  # type: ignore[attr-defined]
        self._camera = self._session = self._sink = None

    @property
    def running(self) -> bool:
        return self._camera is not None

    def process(self, image: QImage, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if not self.filter.due(now):
            return
        for text in decode_image(image):
            if self.filter.fresh(text, now):
                self.decoded.emit(text)
