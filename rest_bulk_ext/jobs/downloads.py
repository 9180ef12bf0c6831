"""
How an export's file reaches its owner: a redirect to the storage's signed,
short-lived URL where the payload storage can sign one, else the bytes
streamed through the web process (docs/jobs.md, "Storage no two machines
share").

A redirect spares a web worker from relaying every byte of a large export;
it is given only for a URL that expires, because the URL itself is the
credential: whoever holds it may read the file until then. An unsigned URL
(a public bucket, a custom domain without a signer, ``MEDIA_URL``) is never
handed out; the file is streamed, so the owner-only rule stays the only
way in.
"""

import logging

from django.core.files.storage import FileSystemStorage

from ..settings import extensions_api_settings

logger = logging.getLogger(__name__)


def signs_urls(storage) -> bool:
    """Whether ``storage.url()`` gives a signed URL that expires.

    django-storages' S3 and Google Cloud backends sign when
    ``querystring_auth`` is on; the S3 backend with a ``custom_domain``
    signs only through a CloudFront signer.
    """
    if isinstance(storage, FileSystemStorage) or not getattr(storage, "querystring_auth", False):
        return False
    if getattr(storage, "custom_domain", None) and not getattr(storage, "cloudfront_signer", None):
        return False
    return True


def _is_s3(storage) -> bool:
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # django-storages (or boto3) not installed
        return False
    return isinstance(storage, S3Storage)


def signed_download_url(storage, name, *, filename, content_type) -> str | None:
    """A signed, expiring URL of ``name`` in ``storage``, or ``None`` when
    the file must be streamed (``BULK_DOWNLOAD_REDIRECT`` off, a storage
    that does not sign, or signing failed).

    On S3 the URL also names the file and its type, so the browser saves
    ``{task_id}.{format}`` as the streamed download does. It expires after
    the storage's own ``querystring_expire`` (``AWS_QUERYSTRING_EXPIRE``).
    """
    if not extensions_api_settings.BULK_DOWNLOAD_REDIRECT or not signs_urls(storage):
        return None
    try:
        if _is_s3(storage) and not getattr(storage, "custom_domain", None):
            return storage.url(
                name,
                parameters={
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                    "ResponseContentType": content_type,
                },
            )
        return storage.url(name)
    except Exception:  # a storage that cannot sign now (no credentials): stream instead
        logger.warning("rest_bulk_ext: could not sign a download URL for %s; streaming it", name, exc_info=True)
        return None
