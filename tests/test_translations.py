"""The library's messages in the client's language: the catalogs under
rest_bulk_ext/locale/ (de, fr, es, pt_BR), chosen by Django's
LocaleMiddleware from Accept-Language."""

import ast
import gettext
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import translation

import rest_bulk_ext
from tests.list_route.support import patch
from tests.models_queryset import Member

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
