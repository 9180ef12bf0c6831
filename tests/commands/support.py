"""Names and file builders shared by the command tests."""

TXNS = "tests.commands.views.TxnViewSet"
OWN_TXNS = "tests.commands.views.OwnTxnViewSet"
CSV_COLUMNS = ["ref", "account", "amount", "occurred_at", "email", "kind", "description"]


def csv_text(rows, columns=CSV_COLUMNS):
    lines = [",".join(columns)]
    lines.extend(",".join(str(row.get(name, "")) for name in columns) for row in rows)
    return "\n".join(lines) + "\n"
