import io
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from rest_framework import serializers
from rest_framework.fields import empty

from rest_bulk_ext.bulk_endpoint.csv_input import csv_items, empty_cell_value, inspect_csv, json_items
from rest_bulk_ext.exceptions import PayloadTooLarge


def upload(text, encoding="utf-8"):
    return SimpleUploadedFile("rows.csv", text.encode(encoding), content_type="text/csv")


def file_errors(exc_info):
    return [str(message) for message in exc_info.value.detail["file"]]


class RowSerializer(serializers.Serializer):
    name = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True)
    size = serializers.IntegerField(required=False, allow_null=True)
    rank = serializers.IntegerField(required=False)


def test_json_items_are_numbered_from_zero():
    items = list(json_items([{"a": 1}, {"a": 2}]))
    assert [(item.index, item.data, item.line) for item in items] == [(0, {"a": 1}, None), (1, {"a": 2}, None)]


def test_inspect_csv_counts_data_rows_and_strips_header_names():
    info = inspect_csv(upload(" ref ,amount\na,1\nb,2\n"), operation="bulk_create", lookup_key="id")
    assert info.header == ("ref", "amount")
    assert info.row_count == 2


def test_inspect_csv_accepts_a_byte_order_mark():
    info = inspect_csv(upload("\ufeffid,amount\n1,2\n"), operation="bulk_update", lookup_key="id")
    assert info.header == ("id", "amount")


def test_inspect_csv_refuses_a_file_that_is_not_utf8():
    with pytest.raises(serializers.ValidationError) as exc_info:
        inspect_csv(upload("name\nCaf\u00e9\n", encoding="latin-1"), operation="bulk_create", lookup_key="id")
    assert "not UTF-8" in file_errors(exc_info)[0]


def test_inspect_csv_names_every_ragged_line():
    with pytest.raises(serializers.ValidationError) as exc_info:
        inspect_csv(upload("a,b\n1,2\n1\n1,2,3\n"), operation="bulk_create", lookup_key="id")
    assert file_errors(exc_info) == [
        "Line 3 has 1 values; the header has 2 columns.",
        "Line 4 has 3 values; the header has 2 columns.",
    ]


def test_inspect_csv_refuses_duplicate_header_names():
    with pytest.raises(serializers.ValidationError) as exc_info:
        inspect_csv(upload("a,b,a\n1,2,3\n"), operation="bulk_create", lookup_key="id")
    assert file_errors(exc_info) == ["Line 1: duplicate column names: a."]


def test_inspect_csv_refuses_an_unnamed_column():
    with pytest.raises(serializers.ValidationError) as exc_info:
        inspect_csv(upload("a,\n1,2\n"), operation="bulk_create", lookup_key="id")
    assert "needs a name" in file_errors(exc_info)[0]


@pytest.mark.parametrize("operation", ["bulk_update", "bulk_replace", "bulk_delete"])
def test_inspect_csv_requires_the_lookup_column_to_find_rows(operation):
    with pytest.raises(serializers.ValidationError) as exc_info:
        inspect_csv(upload("name\nx\n"), operation=operation, lookup_key="code")
    assert "no 'code' column" in file_errors(exc_info)[0]


def test_inspect_csv_does_not_require_the_lookup_column_to_create():
    assert inspect_csv(upload("name\nx\n"), operation="bulk_create", lookup_key="id").row_count == 1


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_inspect_csv_refuses_an_empty_file(text):
    with pytest.raises(serializers.ValidationError) as exc_info:
        inspect_csv(upload(text), operation="bulk_create", lookup_key="id")
    assert "empty" in file_errors(exc_info)[0]


def test_inspect_csv_refuses_a_header_without_rows():
    with pytest.raises(serializers.ValidationError) as exc_info:
        inspect_csv(upload("name\n"), operation="bulk_create", lookup_key="id")
    assert "no data rows" in file_errors(exc_info)[0]


def test_inspect_csv_stops_counting_past_the_row_limit():
    with pytest.raises(PayloadTooLarge):
        inspect_csv(upload("name\na\nb\nc\n"), operation="bulk_create", lookup_key="id", max_rows=2)
    assert inspect_csv(upload("name\na\nb\n"), operation="bulk_create", lookup_key="id", max_rows=2).row_count == 2


def test_inspect_csv_refuses_a_field_longer_than_the_csv_module_allows():
    with pytest.raises(serializers.ValidationError) as exc_info:
        inspect_csv(upload("name\n" + "x" * 200_000 + "\n"), operation="bulk_create", lookup_key="id")
    assert "not valid CSV" in file_errors(exc_info)[0]


def test_csv_items_give_file_lines_across_blank_lines_and_quoted_line_breaks():
    file = upload('name,note\na,"two\nlines"\n\nb,x\n')
    inspect_csv(file, operation="bulk_create", lookup_key="id")
    items = list(csv_items(file, operation="bulk_create", lookup_key="id"))
    assert [(item.index, item.line, item.data) for item in items] == [
        (0, 2, {"name": "a", "note": "two\nlines"}),
        (1, 5, {"name": "b", "note": "x"}),
    ]


def test_csv_items_for_delete_are_the_lookup_values():
    file = upload("name,code\nx,A1\ny,B2\n")
    assert [item.data for item in csv_items(file, operation="bulk_delete", lookup_key="code")] == ["A1", "B2"]


def test_csv_items_leave_the_callers_file_open_and_rereadable():
    file = upload("name\na\n")
    list(csv_items(file, operation="bulk_create", lookup_key="id"))
    assert not file.closed
    assert [item.data for item in csv_items(file, operation="bulk_create", lookup_key="id")] == [{"name": "a"}]


def test_csv_items_apply_the_empty_cell_rule_per_field():
    fields = RowSerializer().fields
    file = upload("name,note,size,rank\n,,,\n")
    [create] = csv_items(file, operation="bulk_create", lookup_key="id", fields=fields)
    [patch] = csv_items(file, operation="bulk_update", lookup_key="id", fields=fields)
    assert create.data == {"name": "", "note": "", "size": None}
    assert patch.data == {}


def test_an_empty_cell_for_an_unknown_column_stays_an_empty_string():
    assert empty_cell_value(None, partial=False) == ""
    assert empty_cell_value(None, partial=True) is empty


def test_a_large_upload_is_read_without_holding_it_in_memory():
    rows = 200_000
    file = TemporaryUploadedFile("big.csv", "text/csv", 0, "utf-8")
    file.write(b"ref,amount,description\n")
    for number in range(rows):
        file.write(b"ref-%d,%d.50,some description text for the row\n" % (number, number))
    file.flush()
    size = file.tell()
    tracemalloc.start()
    try:
        info = inspect_csv(file, operation="bulk_create", lookup_key="id")
        count = sum(1 for _ in csv_items(file, operation="bulk_create", lookup_key="id"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        file.close()
    assert info.row_count == count == rows
    assert size > 8_000_000
    assert peak < 1_000_000


def test_inspect_csv_reads_a_plain_binary_stream():
    info = inspect_csv(io.BytesIO(b"id\n1\n2\n"), operation="bulk_delete", lookup_key="id")
    assert info.row_count == 2


def test_windows_line_endings_and_quoted_crlf_are_read_as_excel_writes_them():
    file = upload('\ufeffname,note\r\na,"x\r\ny"\r\nb,z\r\n')
    assert inspect_csv(file, operation="bulk_create", lookup_key="id").row_count == 2
    items = list(csv_items(file, operation="bulk_create", lookup_key="id"))
    assert [(item.line, item.data) for item in items] == [
        (2, {"name": "a", "note": "x\r\ny"}),
        (4, {"name": "b", "note": "z"}),
    ]
