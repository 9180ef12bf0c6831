"""Test settings of a worker whose job files live in an S3 bucket only
(tests/jobs/test_object_storage.py): ``tests.settings`` plus the bucket as
the ``bulk`` STORAGES alias, which ``BULK_JOB_STORAGE`` names."""

import os

from tests.settings import *  # noqa: F403


def s3_storage(endpoint_url, bucket):
    """The ``STORAGES`` entry of the test bucket on the S3-protocol server
    at ``endpoint_url`` (the web side of the test uses the same one)."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "endpoint_url": endpoint_url,
            "bucket_name": bucket,
            "access_key": "rbe-test",
            "secret_key": "rbe-test-secret",
            "region_name": "us-east-1",
            # The server is 127.0.0.1: no bucket sub-domain to resolve.
            "addressing_style": "path",
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": 60,
        },
    }


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "bulk": s3_storage(os.environ.get("RBE_S3_ENDPOINT_URL", ""), os.environ.get("RBE_S3_BUCKET", "")),
}
REST_FRAMEWORK_EXTENSIONS = {**globals().get("REST_FRAMEWORK_EXTENSIONS", {}), "BULK_JOB_STORAGE": "bulk"}
