"""CSV files as spreadsheets write them: the delimiter detected from the
header line or given (``?delimiter=``, form field ``delimiter``), other
encodings by ``?encoding=`` (form field ``encoding``), and one message
per cause when a file does not read."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rest_bulk_ext.bulk_endpoint.csv_dialects import read_delimiter, read_encoding, sniff_delimiter
from tests.testapp.models import Txn

URL = "/items/txns/bulk/"
COLUMNS = ["ref", "account", "amount", "occurred_at", "email", "kind", "description"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


def table(account, delimiter=",", description="Café crème"):
    rows = [COLUMNS]
    for n in (1, 2):
        rows.append(
            [
                f"ref-{n}",
                str(account.pk),
                f"{n}.25",
                f"2024-02-01T00:0{n}:00Z",
                f"u{n}@example.com",
                "debit",
                description,
            ]
        )
    return "".join(delimiter.join(row) + "\r\n" for row in rows)


def upload(api_client, text, *, file_encoding="utf-8", query="", method="POST", **fields):
    file = SimpleUploadedFile("rows.csv", text.encode(file_encoding), content_type="text/csv")
    return getattr(api_client, method.lower())(URL + query, {"file": file, **fields}, format="multipart")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected_from_the_header_line(api_client, account, delimiter):
    response = upload(api_client, table(account, delimiter))
    assert response.status_code == 201, response.data
    assert list(Txn.objects.values_list("ref", "amount", "description")) == [
        ("ref-1", Decimal("1.25"), "Café crème"),
        ("ref-2", Decimal("2.25"), "Café crème"),
    ]


def test_a_quoted_delimiter_in_the_header_does_not_count():
    assert sniff_delimiter('"a;b";"c;d",e,f\n') == ","
    assert sniff_delimiter("name\n") is None


@pytest.mark.parametrize("given", [";", "semicolon", "%3B"])
def test_the_delimiter_given_in_the_query_string(api_client, account, given):
    response = upload(api_client, table(account, ";"), query=f"?delimiter={given}")
    assert response.status_code == 201, response.data
    assert Txn.objects.count() == 2


def test_the_delimiter_given_as_a_form_field(api_client, account):
    response = upload(api_client, table(account, "\t"), delimiter="tab")
    assert response.status_code == 201, response.data
    assert Txn.objects.count() == 2


def test_a_semicolon_file_read_as_commas_says_so_in_one_message(api_client, account):
    text = table(account, ";").replace("1.25", "1,25")  # a decimal comma, as Excel writes it in Europe
    response = upload(api_client, text, query="?delimiter=,")
    assert response.status_code == 400
    assert response.data == {
        "file": [
            "The file looks semicolon-separated but was read as comma-separated: send ?delimiter=; "
            "(or leave delimiter out to detect it from the header line)."
        ]
    }
    assert not Txn.objects.exists()


@pytest.mark.parametrize("value", ["::", "x", "comma,semicolon"])
def test_an_unknown_delimiter_is_a_400_naming_it(api_client, account, value):
    response = upload(api_client, table(account), delimiter=value)
    assert response.status_code == 400
    assert response.data == {"delimiter": [f"Unknown delimiter '{value}': use one of , ; | or tab."]}


@pytest.mark.parametrize(
    "encoding, query",
    [
        ("utf-8", ""),
        ("utf-8", "?encoding=utf-8"),
        ("utf-8-sig", "?encoding=utf-8-sig"),
        ("utf-8-sig", ""),
        ("utf-16", "?encoding=utf-16"),
        ("utf-16", ""),  # a byte order mark says UTF-16
        ("latin-1", "?encoding=latin-1"),
        ("latin-1", "?encoding=ISO-8859-1"),
        ("cp1252", "?encoding=cp1252"),
        ("cp1252", "?encoding=windows-1252"),
    ],
)
def test_each_encoding_is_read(api_client, account, encoding, query):
    description = "Café – crème" if encoding != "latin-1" else "Café crème"
    response = upload(api_client, table(account, ";", description), file_encoding=encoding, query=query)
    assert response.status_code == 201, response.data
    assert set(Txn.objects.values_list("description", flat=True)) == {description}


def test_the_encoding_given_as_a_form_field(api_client, account):
    response = upload(api_client, table(account), file_encoding="latin-1", encoding="latin-1")
    assert response.status_code == 201, response.data
    assert Txn.objects.first().description == "Café crème"


def test_a_latin1_file_without_encoding_gets_one_message_with_the_fix(api_client, account):
    response = upload(api_client, table(account, ";"), file_encoding="latin-1")
    assert response.status_code == 400
    assert response.data == {
        "file": [
            "The file is not UTF-8 text (line 2): it is probably Latin-1 or Windows-1252, as Excel saves "
            '"CSV (Comma delimited)". Send ?encoding=cp1252 (or ?encoding=latin-1), or save it as "CSV UTF-8".'
        ]
    }
    assert not Txn.objects.exists()


def test_a_latin1_header_is_not_called_an_empty_file(api_client, account):
    response = upload(api_client, "réf,amount\nx,1\n", file_encoding="latin-1")
    assert response.status_code == 400
    [message] = response.data["file"]
    assert message.startswith("The file is not UTF-8 text (line 1)")


def test_a_file_not_in_the_given_encoding_names_it(api_client, account):
    response = upload(api_client, table(account), file_encoding="latin-1", query="?encoding=utf-16")
    assert response.status_code == 400
    [message] = response.data["file"]
    assert message.startswith("The file is not utf-16 text")


@pytest.mark.parametrize("value", ["ebcdic", "utf-32", "rot13"])
def test_an_unknown_encoding_is_a_400_naming_it(api_client, account, value):
    response = upload(api_client, table(account), query=f"?encoding={value}")
    assert response.status_code == 400
    assert response.data == {
        "encoding": [f"Unknown encoding '{value}': use one of utf-8, utf-8-sig, utf-16, latin-1, cp1252."]
    }
    assert not Txn.objects.exists()


def test_an_option_given_twice_is_a_400(api_client, account):
    response = upload(api_client, table(account), query="?delimiter=,", delimiter=";")
    assert response.status_code == 400
    assert "delimiter" in response.data


def test_errors_keep_the_file_lines_with_another_delimiter_and_encoding(api_client, account):
    text = table(account, ";").replace("u2@example.com", "not-an-email")
    response = upload(api_client, text, file_encoding="cp1252", query="?encoding=cp1252")
    assert response.status_code == 400
    [error] = response.data["errors"]
    assert (error["index"], error["line"], list(error["errors"])) == (1, 3, ["email"])


def test_options_are_read_case_and_alias_insensitively():
    assert read_encoding("UTF8") == "utf-8"
    assert read_encoding(None) is None
    assert read_delimiter("\t") == "\t"
    assert read_delimiter("PIPE") == "|"
