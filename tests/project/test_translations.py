"""The library's messages in the client's language: the catalogs under
rest_bulk_ext/locale/ (de, fr, es, pt_BR), chosen by Django's
LocaleMiddleware from Accept-Language."""

import ast
import gettext
import re
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import translation

import rest_bulk_ext
from rest_bulk_ext.jobs.models import BulkJob
from tests.builders import make_account, make_txns
from tests.list_route.support import patch
from tests.testapp.models import Member, Txn

LOCALE_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

localized = override_settings(MIDDLEWARE=LOCALE_MIDDLEWARE)


@pytest.fixture(autouse=True)
def english_afterwards():
    # LocaleMiddleware activates the request's language for the thread and
    # leaves it active: later tests must not read German messages.
    with translation.override(None):
        yield


def active_flags():
    return dict(Member.objects.values_list("username", "is_active"))


@localized
@pytest.mark.parametrize(
    "language, detail",
    [
        ("de", "Der Header 'X-BULK-OPERATION' muss für eine Bulk-Operation angegeben werden."),
        ("fr", "L'en-tête 'X-BULK-OPERATION' doit être fourni pour une opération groupée."),
        ("es", "Debe enviarse la cabecera 'X-BULK-OPERATION' para una operación masiva."),
        ("pt-br", "O cabeçalho 'X-BULK-OPERATION' deve ser enviado para uma operação em massa."),
        ("en", "Header 'X-BULK-OPERATION' should be provided for bulk operation."),
        ("ja", "Header 'X-BULK-OPERATION' should be provided for bulk operation."),
    ],
)
def test_the_guard_header_refusal_speaks_the_clients_language(alice_client, world, language, detail):
    response = patch(alice_client, "/qs/members/", {"is_active": False}, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    assert all(active_flags().values())


@localized
def test_a_strict_parameter_refusal_in_german_names_the_parameter(alice_client, world):
    response = patch(
        alice_client, "/qs/members/?emial=ann@gmail.com", {"is_active": False},
        HTTP_X_BULK_OPERATION="true", HTTP_ACCEPT_LANGUAGE="de",
    )

    assert response.status_code == 400
    assert response.json() == {
        "emial": [
            "Kein Filter dieser View verwendet 'emial', er würde die Zeilen also nicht einschränken und der "
            "Schreibvorgang würde auf alle Zeilen wirken. Filter: email, email__endswith, is_active, status."
        ]
    }
    assert all(active_flags().values())


def po_entries(path):
    """``{msgid: msgstr}`` (plural forms as tuples) of a .po file."""
    entries = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields, key = {}, None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            if line.startswith('"'):
                fields[key] += ast.literal_eval(line)
            else:
                key, _, value = line.partition(" ")
                fields[key] = ast.literal_eval(value)
        if fields.get("msgid"):
            plurals = sorted(k for k in fields if k.startswith("msgstr["))
            entries[fields["msgid"]] = tuple(fields[k] for k in plurals) if plurals else fields["msgstr"]
    return entries


@pytest.mark.parametrize("language", ["de", "fr", "es", "pt_BR"])
def test_each_shipped_catalog_is_compiled_from_its_source_and_complete(language):
    # A .po edited without compilemessages would ship stale translations.
    messages = Path(rest_bulk_ext.__file__).parent / "locale" / language / "LC_MESSAGES"
    with open(messages / "django.mo", "rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    entries = po_entries(messages / "django.po")
    assert len(entries) > 100
    for msgid, msgstr in entries.items():
        assert msgstr, f"{language}: no translation for {msgid!r}"
        if isinstance(msgstr, tuple):
            assert catalog.ngettext(msgid, msgid, 1) == msgstr[0], msgid
        else:
            assert catalog.gettext(msgid) == msgstr, msgid


LANGUAGES = ["de", "fr", "es", "pt_BR"]
PACKAGE = Path(rest_bulk_ext.__file__).parent
GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
TRANSLATE_TAG = re.compile(r"""{% translate (["'])(.+?)\1 %}""")


def source_messages():
    """The literal messages the package's code and templates mark for
    translation: what ``makemessages`` would put in a catalog (plain
    ``{% translate %}`` tags; blocktranslate texts are in the catalogs'
    own entries, which the completeness test reads)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in GETTEXT_CALLS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    for path in (PACKAGE / "templates").rglob("*.html"):
        found.update(match.group(2) for match in TRANSLATE_TAG.finditer(path.read_text(encoding="utf-8")))
    return found


def fuzzy_entries(path):
    # The header entry (msgid "") carries no flags once the catalog is edited;
    # every other "#, fuzzy" is a guess msgfmt leaves out of the .mo.
    return [block for block in path.read_text(encoding="utf-8").split("\n\n") if "#, fuzzy" in block]


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalog_translates_every_message_of_the_code_and_none_is_fuzzy(language):
    po = PACKAGE / "locale" / language / "LC_MESSAGES" / "django.po"
    entries = po_entries(po)

    assert sorted(source_messages() - set(entries)) == []
    untranslated = [msgid for msgid, msgstr in entries.items() if not all(msgstr if isinstance(msgstr, tuple) else [msgstr])]
    assert untranslated == []
    assert fuzzy_entries(po) == []


def test_the_four_catalogs_hold_the_same_messages():
    catalogs = [set(po_entries(PACKAGE / "locale" / language / "LC_MESSAGES" / "django.po")) for language in LANGUAGES]
    assert all(catalog == catalogs[0] for catalog in catalogs)


@localized
@pytest.mark.django_db
@pytest.mark.urls("tests.bulk_endpoint.urls_input")
def test_a_misspelt_bulk_parameter_is_refused_in_german(api_client, inline):
    account = make_account()
    rows = make_txns(account, 2)

    response = api_client.patch(
        "/items/txns/bulk/?dryrun=true", [{"id": rows[0].pk, "description": "changed"}], format="json",
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert response.status_code == 400
    assert response.json() == {
        "dryrun": [
            "Ein Schreibvorgang an /bulk/ nimmt 'dryrun' nicht an, es würde also ignoriert; nichts wurde "
            "geschrieben. Meinten Sie 'dry_run'?"
        ]
    }
    assert not Txn.objects.filter(description="changed").exists()


@localized
@pytest.mark.django_db
def test_a_jobs_status_word_is_in_the_clients_language(api_client):
    owner = get_user_model().objects.create_user("ada", password="pw")
    job = BulkJob.objects.create(
        task_id=str(uuid.uuid4()), owner=owner, operation_type="bulk_create", state="PENDING", total_items=40,
        view_path="tests.jobs.views.JobRecordViewSet", action="bulk", http_method="POST",
    )  # fmt: skip
    api_client.force_authenticate(owner)

    response = api_client.get(f"/api/bulk-operations/{job.task_id}/status/", HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 200
    assert response.json()["state"] == "PENDING"
    assert response.json()["status"] == "Wartet auf einen Worker"
    assert response.json()["progress"]["message"] == "Wartet auf einen Worker"


@localized
@pytest.mark.django_db
@pytest.mark.urls("tests.bulk_endpoint.urls_input")
def test_a_csv_read_with_the_wrong_delimiter_is_refused_in_german_naming_both(api_client, inline):
    account = make_account()
    header = "ref;account;amount;occurred_at;email;kind;description\r\n"
    line = f"ref-1;{account.pk};1,25;2024-02-01T00:01:00Z;u1@example.com;debit;Café\r\n"
    upload = SimpleUploadedFile("rows.csv", (header + line).encode(), content_type="text/csv")

    response = api_client.post(
        "/items/txns/bulk/?delimiter=,", {"file": upload}, format="multipart", HTTP_ACCEPT_LANGUAGE="de"
    )

    assert response.status_code == 400
    assert response.json() == {
        "file": [
            "Die Datei scheint durch Semikolon getrennt zu sein, wurde aber als durch Komma getrennt gelesen: "
            "Senden Sie ?delimiter=; (oder lassen Sie delimiter weg, um es aus der Kopfzeile zu erkennen)."
        ]
    }
    assert not Txn.objects.exists()
