"""The upload size limit, enforced while the request body streams in.

``UploadLimitHandler`` runs first among ``FILE_UPLOAD_HANDLERS``: a request whose declared
length is over ``UPLOAD_MAX_BYTES`` is refused before a byte is read, and one that streams
past it (no or a false ``Content-Length``) is refused at the chunk that crosses it. The
part already received sits only in the temporary upload file, which is removed with the
request; nothing reaches the media storage. The API answers 413 in the error shape.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler


class UploadTooLarge(RequestDataTooBig):
    pass


def _refuse(limit: int):
    return UploadTooLarge(f"The upload is larger than the limit of {limit} bytes.")


class UploadLimitHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = settings.UPLOAD_MAX_BYTES
        self.received = 0
        if content_length and content_length > self.limit:
            raise self._refuse()

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise self._refuse()
        return raw_data

    def _refuse(self) -> UploadTooLarge:
        # Marked on the request, so that pages answer with a page a person can read
        # (flexbridge.middleware.UploadTooLargePageMiddleware); the API answers 413.
        if self.request is not None:
            self.request.upload_too_large = self.limit
        return _refuse(self.limit)

    def file_complete(self, file_size):
        return None
