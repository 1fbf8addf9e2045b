"""Documents on an S3-compatible object store, as several web machines would share them:
moto runs in server mode on 127.0.0.1, the storage is configured from the environment
exactly as config/settings.py reads it, and the upload and download go through our
service and our view."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.urls import reverse
from django.utils import translation
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

from documents.attachments import attach, remove
from documents.models import Attachment

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "kjjg-documents"
KEYS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret"}
MiB = 1024 * 1024


@pytest.fixture
def s3_endpoint(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # never through a proxy of the machine
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def storage_from_environment(endpoint: str) -> dict:
    """STORAGES["default"] as config/settings.py builds it from these variables."""
    env = {
        **os.environ,
        "DOCUMENT_S3_BUCKET": BUCKET,
        "DOCUMENT_S3_ENDPOINT_URL": endpoint,
        "DOCUMENT_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "DOCUMENT_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
        "DOCUMENT_S3_REGION": "us-east-1",
        "DOCUMENT_S3_ADDRESSING_STYLE": "path",
    }
    script = "import json, config.settings as s; print(json.dumps(s.STORAGES['default']))"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def bucket(settings, s3_endpoint):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)
    s3.create_bucket(Bucket=BUCKET)
    default = storage_from_environment(s3_endpoint)
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    # Django drops its cached storages when STORAGES changes (the setting_changed signal).
    settings.STORAGES = {**settings.STORAGES, "default": default}
    return s3


def keys_in(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_upload_and_download_through_an_s3_compatible_store(
    client, county, draft, bucket, settings, english, django_capture_on_commit_callbacks
):
    # 9 MiB: above boto3's multipart threshold, from a temporary upload on disk.
    size = 9 * MiB
    handler = TemporaryFileUploadHandler()
    handler.new_file("file", "验收报告.pdf", "application/pdf", size)
    content = b"%PDF-1.7\n" + bytes(range(256)) * (size // 256)
    content = content[:size]
    for start in range(0, size, MiB):
        handler.receive_data_chunk(content[start : start + MiB], start)
    upload = handler.file_complete(size)

    doc = attach(draft, "acceptance_material", upload, draft.pi)
    upload.close()
    assert isinstance(storages["default"], S3Storage)

    # The object is in the bucket under the random path, byte for byte.
    assert keys_in(bucket) == [doc.file.name]
    head = bucket.head_object(Bucket=BUCKET, Key=doc.file.name)
    assert head["ContentLength"] == size
    stored = bucket.get_object(Bucket=BUCKET, Key=doc.file.name)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == doc.sha256 == hashlib.sha256(content).hexdigest()

    # Downloaded through our view, with the same permissions as on the local disk.
    client.force_login(draft.pi)
    response = client.get(reverse("attachment", args=[doc.pk]))
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and body == content
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    client.force_login(county.users["applicant2"])
    assert client.get(reverse("attachment", args=[doc.pk])).status_code == 404

    # A refused upload leaves nothing in the bucket.
    with translation.override("en"), pytest.raises(ValidationError, match="ZIP archives"):
        attach(
            draft, "commitment", SimpleUploadedFile("a.pdf", b"PK\x05\x06" + b"\0" * 18), draft.pi
        )
    assert keys_in(bucket) == [doc.file.name] and Attachment.objects.count() == 1

    # Removal with purge deletes the object; the record stays.
    settings.DOCUMENT_PURGE_ON_REMOVE = True
    with django_capture_on_commit_callbacks(execute=True):
        remove(doc, draft.pi, "重复上传")
    assert keys_in(bucket) == []
    assert Attachment.objects.get().removal_reason == "重复上传"
