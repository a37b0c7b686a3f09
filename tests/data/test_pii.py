"""PII detection: each kind on good and look-alike values, and flags on whole tables."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slipway.data._pii import PiiFlag, classify_values, flag_columns, scan_pii
from slipway.data._profile import profile_table

CASES = {
    "email": (
        ["anna.smith@example.com", "x+tag@mail.co.uk", "o'neil@sub.example.org", "josé@bücher.de"],
        ["a@b", "anna@", "@example.com", "a..b@example.com", "a@example.c0m", "a b@example.com"],
    ),
    "phone": (
        [
            "415-555-2671",
            "(415) 555-2671",
            "+1 415.555.2671",
            "+442079460958",
            "+44 20 7946 0958",
            "020 7946 0958",
            "06-12345678",
            "+33 1 23 45 67 89",
        ],
        [
            "4155552671",
            "2024-01-15",
            "15.01.2024",
            "12345",
            "+1.5",
            "3.14159265",
            "-12345678",
            "0123456789",
            "555-1234",
            "2024-01-15 10:20:30",
            "1.2.3.4",
            "+1 (415",
            "415--555-2671",
        ],
    ),
    "card_number": (
        [
            "4111111111111111",
            "4111 1111 1111 1111",
            "5500-0000-0000-0004",
            "378282246310005",
            "6011000990139424",
        ],
        [
            "4111111111111112",
            "4111 1111 1111 1113",
            "0000000000000",
            "1234",
            "41111111111111111111",
            "0411111111111111116",
            "4111_1111_1111_1111",
        ],
    ),
    "national_id": (
        ["123-45-6789", "078 05 1120", "AB123456C", "ab 12 34 56 c", "JG 10 37 22 D"],
        [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "123-00-4567",
            "123-45-0000",
            "123-45 6789",
            "123456789",
            "DA123456A",
            "GB123456A",
            "AB123456E",
            "AO123456A",
        ],
    ),
    "ip_address": (
        [
            "192.168.0.1",
            "8.8.8.8",
            "255.255.255.255",
            "::1",
            "2001:db8::8a2e:370:7334",
            "fe80::1%eth0",
        ],
        [
            "999.1.1.1",
            "1.2.3",
            "10.0.19041.1",
            "01.02.03.04",
            "12:30:45",
            "00:1a:2b:3c:4d:5e",
            "1.2.3.4.5",
            "localhost",
        ],
    ),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_matches_its_values_and_not_look_alikes(kind):
    good, bad = CASES[kind]
    for value in good:
        assert classify_values([value])[kind] == 1.0, f"{value!r} should be {kind}"
    for value in bad:
        assert classify_values([value])[kind] == 0.0, f"{value!r} is not {kind}"


def test_ordinary_values_match_no_kind():
    ordinary = ["42", "-17", "3.5", "1e-9", "2024-06-11", "2024-06-11T10:00:00Z", "v1.2.3"]
    ordinary += ["hello world", "N/A", "true", "12:30", "1,234,567", "20240611"]
    for value in ordinary:
        assert set(classify_values([value]).values()) == {0.0}, value


def test_version_quads_are_treated_as_ip_addresses():
    # Documented trade-off: a four-part version with parts <= 255 is a valid IPv4 address.
    assert classify_values(["1.2.3.4"])["ip_address"] == 1.0
    assert classify_values(["1.2.3"])["ip_address"] == 0.0


def test_rates_are_over_non_blank_values_and_values_are_stripped():
    rates = classify_values([" a@example.com ", "", "   ", "nope", "b@example.com", "x"])
    assert rates["email"] == 0.5
    assert classify_values([]) == dict.fromkeys(rates, 0.0)


def test_flag_threshold_is_a_parameter():
    samples = {"contact": ["a@example.com"] * 3 + ["none"] * 7}
    assert flag_columns(samples) == []
    assert flag_columns(samples, threshold=0.3) == [
        PiiFlag(column="contact", kind="email", match_rate=0.3, sample_size=10)
    ]


def _contacts(rows: int) -> pa.Table:
    return pa.table(
        {
            "email": [f"user{i}@example.com" for i in range(rows)],
            "phone": [f"(415) 555-{i % 10_000:04d}" for i in range(rows)],
            "name": [f"User {i}" for i in range(rows)],
            "amount": [f"{i * 1.5:.2f}" for i in range(rows)],
            "joined": [f"2024-01-{i % 28 + 1:02d}" for i in range(rows)],
            "id": list(range(rows)),
            "some_emails": [f"user{i}@example.com" if i % 10 < 3 else "n/a" for i in range(rows)],
        }
    )


def test_table_with_email_and_phone_columns_gets_exactly_those_flags(tmp_path):
    path = tmp_path / "contacts.parquet"
    pq.write_table(_contacts(5_000), path)
    flags = profile_table(path).pii
    assert [(flag.column, flag.kind, flag.match_rate, flag.sample_size) for flag in flags] == [
        ("email", "email", 1.0, 1000),
        ("phone", "phone", 1.0, 1000),
    ]


def test_a_column_with_30_percent_emails_is_not_flagged(tmp_path):
    path = tmp_path / "mixed.csv"
    pq.write_table(_contacts(2_000).select(["some_emails"]), tmp_path / "mixed.parquet")
    profile = profile_table(tmp_path / "mixed.parquet")
    assert profile.pii == []
    path.write_text("c\n" + "\n".join(["a@example.com"] * 3 + ["n/a"] * 7) + "\n")
    assert profile_table(path).pii == []


def test_card_numbers_stored_as_integers_are_flagged(tmp_path):
    path = tmp_path / "cards.parquet"
    cards = [4111111111111111, 5500000000000004, 6011000990139424, 378282246310005]
    pq.write_table(pa.table({"card": cards, "small": [1, 2, 3, 4]}), path)
    assert [(f.column, f.kind) for f in profile_table(path).pii] == [("card", "card_number")]


def test_csv_columns_typed_as_numbers_or_text_are_both_scanned(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(
        "phone,card,ssn,zip\n"
        "+14155552671,4111111111111111,123-45-6789,01234\n"
        "+442079460958,5500000000000004,078-05-1120,02134\n"
    )
    profile = profile_table(path)
    assert profile.column("card").type == "int64"  # DuckDB reads the cards as numbers
    assert [(f.column, f.kind) for f in profile.pii] == [
        ("phone", "phone"),
        ("card", "card_number"),
        ("ssn", "national_id"),
    ]


def test_scan_samples_the_first_values_and_is_reproducible():
    con = duckdb.connect()
    rows = [("x",)] * 10 + [("a@example.com",)] * 90 + [(None,)] * 5 + [("",)] * 5
    con.execute('CREATE TABLE t ("e-mail" VARCHAR)')
    con.executemany("INSERT INTO t VALUES (?)", rows)
    first = scan_pii(con, "t", ["e-mail"], sample=20)
    assert first == [PiiFlag(column="e-mail", kind="email", match_rate=0.5, sample_size=20)]
    assert scan_pii(con, "t", ["e-mail"], sample=20) == first
    assert scan_pii(con, "t", ["e-mail"], sample=10) == []
