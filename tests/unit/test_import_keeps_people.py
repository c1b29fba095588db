"""The customers import keeps the people and businesses a file lists: a birthday that is no
date leaves the birthday empty, not the person out; namesakes told apart by their birthday
or ID number stay two customers; what a row about the same customer gives otherwise is
said, not dropped unseen; US phones written 310/246-1501 are one number — on both engines.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import select

from smbcrm.models import Customer, CustomerKind, Database, ImportKind, User
from smbcrm.services.importing.apply import apply_plan
from smbcrm.services.importing.plan import ImportOptions, ImportPlan, Outcome
from smbcrm.services.importing.service import prepare_import
from smbcrm.services.importing.values import parse_phones, phone_hint, read_phones
from tests.factories import make_customer

PEOPLE = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "suburb",
    "postcode",
    "date_of_birth",
    "soc_sec_id",
]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def preview(db: Database, path: Path, region: str = "AU") -> ImportPlan:
    options = ImportOptions(region=region)
    return prepare_import(db, path, ImportKind.CUSTOMERS, options=options).plan


def import_file(db: Database, plan: ImportPlan) -> None:
    with db.new_session() as session:
        boss = session.scalar(select(User.id).where(User.login == "boss"))
    assert boss is not None
    apply_plan(db, boss, plan)


def people(db: Database) -> list[tuple[str, str | None, str | None, date | None]]:
    """(name, address, postcode, birthday) of every customer, by id."""
    with db.new_session() as session:
        return [
            (c.name, c.address, c.postcode, c.birthday)
            for c in session.scalars(select(Customer).order_by(Customer.id))
        ]


# ----------------------------------------------------------------------------- birthdays


def test_a_birthday_that_is_no_date_leaves_the_birthday_empty_not_the_person_out(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "people.csv",
        PEOPLE,
        [
            ["joshua", "white", "12", "ferguson street", "ringwood", "3134", "19729518", ""],
            ["joshua", "white", "12", "ferguson street", "ringwood", "3134", "", "4123456"],
            ["lachlan", "reid", "5", "oxley place", "dubbo", "2830", "19371233", ""],
            ["ella", "brown", "9", "pitt street", "sydney", "2000", "20990101", ""],
            ["mia", "lee", "3", "king street", "sydney", "2000", "19810229", ""],
            ["leo", "green", "6", "kent street", "sydney", "2000", "19800229", ""],
        ],
    )
    plan = preview(company, path)
    assert [r.outcome for r in plan.rows] == [
        Outcome.CREATE,
        Outcome.SAME_AS_ROW,  # its duplicate still finds it
        Outcome.CREATE,
        Outcome.CREATE,
        Outcome.CREATE,
        Outcome.CREATE,
    ]
    assert plan.rows[0].warnings == [
        "column 'date_of_birth': birthday 19729518 is not a date (month 95 does not exist): "
        "left empty; fix it in the file and import again to add it"
    ]
    assert plan.rows[2].warnings == [
        "column 'date_of_birth': birthday 19371233 is not a date (day 33 does not exist): "
        "left empty; fix it in the file and import again to add it"
    ]
    assert plan.rows[3].warnings == [
        "column 'date_of_birth': birthday 20990101 is in the future: left empty; fix it in "
        "the file and import again to add it"
    ]
    assert plan.rows[4].warnings == [
        "column 'date_of_birth': birthday 19810229 is not a date (February 1981 has 28 days): "
        "left empty; fix it in the file and import again to add it"
    ]
    assert plan.rows[5].warnings == []

    import_file(company, plan)
    assert people(company) == [
        ("joshua white", "12 ferguson street", "3134", None),
        ("lachlan reid", "5 oxley place", "2830", None),
        ("ella brown", "9 pitt street", "2000", None),
        ("mia lee", "3 king street", "2000", None),
        ("leo green", "6 kent street", "2000", date(1980, 2, 29)),
    ]


# ----------------------------------------------------------------------------- namesakes


def test_namesakes_with_other_birthdays_in_one_file_stay_two_customers(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "webb.csv",
        PEOPLE,
        [
            ["emiily", "webb", "20", "hurtle avenue", "dapto", "3216", "19080812", ""],
            ["emiily", "webb", "42", "stewart crescent", "dapto", "2153", "19501128", ""],
            # The second one again, with her address written shorter: her, not the first.
            ["emiily", "webb", "42", "stewart cres", "dapto", "2153", "19501128", ""],
        ],
    )
    plan = preview(company, path)
    first, second, third = plan.rows
    assert (first.outcome, second.outcome, third.outcome) == (
        Outcome.CREATE,
        Outcome.CREATE,
        Outcome.SAME_AS_ROW,
    )
    assert second.warnings == [
        "row 2 has the same name in dapto, but a different birthday (1950-11-28 vs "
        "1908-08-12): this row is a customer of its own"
    ]
    assert third.same_as_row == second.row_number
    assert third.warnings == [
        "differs from row 3 in 'street_number', 'address_1': kept row 3's, this row's are "
        "not imported"
    ]

    import_file(company, plan)
    assert people(company) == [
        ("emiily webb", "20 hurtle avenue", "3216", date(1908, 8, 12)),
        ("emiily webb", "42 stewart crescent", "2153", date(1950, 11, 28)),
    ]


def test_namesakes_with_other_id_numbers_in_one_file_stay_two_customers(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "ids.csv",
        PEOPLE,
        [
            ["jack", "smith", "1", "main road", "orange", "2800", "", "4123456"],
            ["jack", "smith", "7", "hill street", "orange", "2800", "", "7654321"],
        ],
    )
    plan = preview(company, path)
    assert [r.outcome for r in plan.rows] == [Outcome.CREATE, Outcome.CREATE]
    assert plan.rows[1].warnings == [
        "row 2 has the same name in orange, but a different ID or tax number (7654321 vs "
        "4123456): this row is a customer of its own"
    ]
    import_file(company, plan)
    assert [p[1] for p in people(company)] == ["1 main road", "7 hill street"]


def test_a_row_about_the_same_person_says_which_values_it_gave_otherwise(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "moved.csv",
        PEOPLE,
        [
            ["ruby", "jones", "4", "bay road", "cairns", "4870", "19700101", ""],
            ["Ruby", "Jones", "", "", "Cairns", "", "", "5550001"],  # adds the ID number
            ["ruby", "jones", "8", "reef street", "cairns", "4870", "", ""],
        ],
    )
    plan = preview(company, path)
    assert [r.outcome for r in plan.rows] == [
        Outcome.CREATE,
        Outcome.SAME_AS_ROW,
        Outcome.SAME_AS_ROW,
    ]
    # Another way of writing the same name and city is no difference worth a word.
    assert plan.rows[1].warnings == []
    assert plan.rows[2].warnings == [
        "differs from row 2 in 'street_number', 'address_1': kept row 2's, this row's are "
        "not imported"
    ]
    import_file(company, plan)
    with company.new_session() as session:
        ruby = session.scalars(select(Customer)).one()
        assert (ruby.address, ruby.tax_id) == ("4 bay road", "5550001")


def test_a_namesake_in_the_book_with_another_birthday_is_a_possible_duplicate(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        webb = make_customer(
            session,
            "emiily webb",
            kind=CustomerKind.PERSON,
            city="dapto",
            address="20 hurtle avenue",
            birthday=date(1908, 8, 12),
        ).id
        acme = make_customer(session, "Acme Trading", city="Sydney", tax_id="51824753556").id
    path = write_csv(
        tmp_path / "again.csv",
        PEOPLE,
        [
            ["emiily", "webb", "42", "stewart crescent", "dapto", "2153", "19501128", ""],
            ["emiily", "webb", "20", "hurtle avenue", "dapto", "3216", "", ""],
        ],
    )
    plan = preview(company, path)
    other, same = plan.rows
    assert (other.outcome, other.customer_id) == (Outcome.DUPLICATE, webb)
    assert other.reason == (
        "emiily webb: same name in dapto, but a different birthday (1950-11-28 vs 1908-08-12)"
    )
    # Without a birthday to tell them apart, the name and city still find her.
    assert (same.outcome, same.customer_id) == (Outcome.UPDATE, webb)

    companies = write_csv(
        tmp_path / "companies.csv",
        ["Company", "City", "Tax ID"],
        [["Acme Trading", "Sydney", "51 824 753 556"], ["ACME Trading", "Sydney", "99999999999"]],
    )
    same_company, other_company = preview(company, companies).rows
    assert (same_company.outcome, same_company.customer_id) == (Outcome.UNCHANGED, acme)
    assert (other_company.outcome, other_company.customer_id) == (Outcome.DUPLICATE, acme)
    assert other_company.reason.endswith(
        "but a different ID or tax number (99999999999 vs 51824753556)"
    )


# ----------------------------------------------------------------------------- phones


def test_a_us_phone_written_with_a_slash_after_its_area_code_is_one_number() -> None:
    assert parse_phones("310/246-1501", "US") == ["+13102461501"]
    assert parse_phones("310/246-1501; 818/762-1221", "US") == ["+13102461501", "+18187621221"]
    assert parse_phones("0755/8888 9999", "CN") == ["+8675588889999"]
    assert parse_phones("213/651-2030.", "US") == ["+12136512030"]
    assert [p.written for p in read_phones("310/246-1501", "US")] == ["310 246-1501"]
    # Two whole numbers with a slash between them are still two.
    assert parse_phones("138 0013 8000 / 0755-8888 9999") == ["+8613800138000", "+8675588889999"]
    assert parse_phones("13800138000/13900001111") == ["+8613800138000", "+8613900001111"]


def test_the_phone_hint_gives_an_example_of_the_books_region() -> None:
    assert phone_hint("CN") == "write phone numbers as 138 0013 8000 or +86 755 8888 9999"
    assert phone_hint("US") == "write phone numbers as (201) 555-0123 or +1 201-555-0123"
    assert phone_hint("AU") == "write phone numbers as (02) 1234 5678 or +61 2 1234 5678"


def test_a_us_restaurant_list_is_imported_with_its_phones(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "restaurants.csv",
        ["Customer code", "Name", "Address", "City", "Phone"],
        [
            ["fodors-534", "arnie mortons of chicago", "435 s. la cienega blv.", "los angeles",
             "310/246-1501"],
            ["fodors-535", "arts delicatessen", "12224 ventura blvd.", "studio city", "818/762"],
        ],
    )  # fmt: skip
    plan = preview(company, path, region="US")
    mortons, arts = plan.rows
    assert mortons.outcome == Outcome.CREATE
    assert mortons.values.phones == (("310 246-1501", "+13102461501"),)
    assert arts.outcome == Outcome.ERROR
    assert arts.problem_text() == (
        "column 'Phone': '818' is not a phone number. write phone numbers as (201) 555-0123 "
        "or +1 201-555-0123"
    )
    import_file(company, plan)
    with company.new_session() as session:
        found = session.scalars(select(Customer)).one()
        assert [p.key for p in found.contact_points] == ["+13102461501"]
