"""Two previews of the same customers imported one after the other — two windows, or a
window and the command line — create each customer once: the rows a preview found new are
matched again, in the import's turn, against the customers added or changed since the
preview, and the import is refused with nothing written when any of them now matches.
On both engines."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import smbcrm.services.importing.apply as apply_module
from smbcrm.errors import Cancelled
from smbcrm.models import (
    AuditEntry,
    Customer,
    Database,
    ImportBatch,
    ImportChange,
    ImportKind,
    Role,
    User,
)
from smbcrm.services.customers import CustomerInput, add_contact, create_customer
from smbcrm.services.importing.apply import (
    IMPORT_LOCK_KEY,
    ImportQueueTooLong,
    NewRowsMatchNow,
    PreviewOutdated,
    apply_plan,
)
from smbcrm.services.importing.plan import ImportOptions, ImportPlan, OnDuplicate, Outcome
from smbcrm.services.importing.service import prepare_import
from smbcrm.services.progress import CancelToken, Progress
from tests.conftest import add_user
from tests.factories import make_customer

HEADER = ["客户名称", "手机", "邮箱", "城市"]
ROWS = [
    ["深圳华强电子有限公司", "138 0013 8000", "", "深圳"],
    ["杭州绿源茶业", "13912345678", "tea@lvyuan.example", "杭州"],
    ["Harbor Lights Ltd", "", "", "Singapore"],
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def preview(db: Database, path: Path, **options: object) -> ImportPlan:
    prepared = prepare_import(db, path, ImportKind.CUSTOMERS, options=ImportOptions(**options))  # type: ignore[arg-type]
    assert isinstance(prepared.plan, ImportPlan)
    return prepared.plan


def owner_id(db: Database) -> int:
    with db.new_session() as session:
        found = session.scalar(select(User.id).where(User.login == "boss"))
        assert found is not None
        return found


def counts(db: Database) -> dict[str, int]:
    """Rows of the tables an import writes."""
    with db.new_session() as session:
        return {
            model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Customer, ImportBatch, ImportChange, AuditEntry)
        }


def names(db: Database) -> list[str]:
    with db.new_session() as session:
        return sorted(session.scalars(select(Customer.name)))


def test_the_second_of_two_previews_of_the_same_file_is_refused(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "展会名单.csv", ROWS)
    actor = owner_id(company)
    in_this_window = preview(company, path)
    in_the_other_window = preview(company, path)
    assert in_this_window.count(Outcome.CREATE) == in_the_other_window.count(Outcome.CREATE) == 3

    first = apply_plan(company, actor, in_the_other_window)
    assert first.created == 3
    before = counts(company)
    with pytest.raises(PreviewOutdated) as refused:
        apply_plan(company, actor, in_this_window)

    assert isinstance(refused.value, NewRowsMatchNow) and refused.value.rows == 3
    message = str(refused.value)
    assert message.startswith(
        "3 rows that were new in the preview now match customers added or changed since "
        "(first: row 2 '深圳华强电子有限公司' matches 深圳华强电子有限公司, smbcrm ID "
    )
    assert ": same phone 138 0013 8000, " in message
    assert f", added by import batch {first.batch_id} of Wang Fang at " in message
    assert message.endswith(
        "). Importing them would add those customers twice, so nothing was imported. "
        "Preview the file again and import it."
    )
    assert counts(company) == before
    assert names(company) == sorted(r[0] for r in ROWS)
    # Previewed again, the same file updates what the first import created.
    again = preview(company, path)
    assert again.count(Outcome.CREATE) == 0
    assert apply_plan(company, actor, again).created == 0


def test_a_customer_another_user_adds_with_the_same_phone_stops_the_import(
    company: Database, tmp_path: Path
) -> None:
    anna = add_user(company, "anna", Role.MANAGER, "Anna Li")
    plan = preview(company, write_csv(tmp_path / "list.csv", ROWS))
    with company.session(user_id=anna.id) as session:
        added = create_customer(
            session,
            session.get_one(User, anna.id),
            CustomerInput(name="华强电子", city="深圳", phones=["+86 13800138000"]),
        )
        added_id = added.id
    before = counts(company)

    with pytest.raises(PreviewOutdated) as refused:
        apply_plan(company, owner_id(company), plan)

    message = str(refused.value)
    assert message.startswith(
        "Row 2 ('深圳华强电子有限公司') was new in the preview, but now matches 华强电子 "
        f"(smbcrm ID {added_id}: same phone 138 0013 8000), added by Anna Li at "
    )
    assert message.endswith(
        ". Importing it would add that customer twice, so nothing was imported. Preview the "
        "file again and import it."
    )
    assert (refused.value.customer, refused.value.row_number) == ("华强电子", 2)
    assert counts(company) == before
    assert names(company) == ["华强电子"]


def test_an_e_mail_added_to_a_customer_since_the_preview_stops_the_import(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        existing = make_customer(session, "绿源茶叶商行", city="宁波").id
    anna = add_user(company, "anna", Role.MANAGER, "Anna Li")
    plan = preview(company, write_csv(tmp_path / "list.csv", ROWS))
    assert plan.count(Outcome.CREATE) == 3
    with company.session(user_id=anna.id) as session:
        add_contact(
            session,
            session.get_one(User, anna.id),
            existing,
            name="王经理",
            emails=["Tea@LvYuan.example"],
        )
    before = counts(company)

    with pytest.raises(PreviewOutdated) as refused:
        apply_plan(company, owner_id(company), plan)

    message = str(refused.value)
    assert message.startswith(
        f"Row 3 ('杭州绿源茶业') was new in the preview, but now matches 绿源茶叶商行 (smbcrm "
        f"ID {existing}: same e-mail tea@lvyuan.example), changed by Anna Li at "
    )
    assert counts(company) == before


def test_a_preview_nothing_new_conflicts_with_still_imports(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        edited = make_customer(session, "宁波港务", city="宁波").id
    anna = add_user(company, "anna", Role.MANAGER, "Anna Li")
    plan = preview(company, write_csv(tmp_path / "list.csv", ROWS))
    # Meanwhile others add and change customers the file's rows do not match.
    with company.session(user_id=anna.id) as session:
        actor = session.get_one(User, anna.id)
        create_customer(session, actor, CustomerInput(name="Blue Harbour", phones=["13700001111"]))
        add_contact(session, actor, edited, name="李四", phones=["13600002222"])
    other = preview(company, write_csv(tmp_path / "other.csv", [["上海申通物流", "", "", "上海"]]))
    apply_plan(company, owner_id(company), other)

    result = apply_plan(company, owner_id(company), plan)

    assert result.created == 3
    assert names(company) == sorted(
        [r[0] for r in ROWS] + ["宁波港务", "Blue Harbour", "上海申通物流"]
    )


def test_rows_created_although_they_match_are_created_when_a_match_appears_too(
    company: Database, tmp_path: Path
) -> None:
    """ "Create" for matching rows: a customer added since the preview changes nothing."""
    plan = preview(
        company, write_csv(tmp_path / "list.csv", ROWS[:1]), on_duplicate=OnDuplicate.CREATE
    )
    with company.session() as session:
        make_customer(session, "华强电子", phones=["13800138000"])
    assert apply_plan(company, owner_id(company), plan).created == 1
    assert names(company) == ["华强电子", "深圳华强电子有限公司"]


def test_two_imports_written_at_the_same_moment_take_turns(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "list.csv", ROWS)
    actor = owner_id(company)
    this_window, other_window = preview(company, path), preview(company, path)
    outcome: list[BaseException | int] = []

    def import_in_the_other_window() -> None:
        try:
            outcome.append(apply_plan(company, actor, other_window).created)
        except BaseException as exc:  # the test looks at what it was
            outcome.append(exc)

    other = threading.Thread(target=import_in_the_other_window)

    def while_this_one_writes(_done: int, _total: int, text: str) -> None:
        # This import has written its customers and not yet committed them: the other
        # window's import starts now, and must wait for this one instead of writing its own.
        if text == "Finishing…" and not other.is_alive():
            other.start()
            other.join(timeout=1.5)
            assert other.is_alive(), outcome

    assert apply_plan(company, actor, this_window, progress=Progress(while_this_one_writes))
    other.join(timeout=60)
    assert not other.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], NewRowsMatchNow), outcome
    assert names(company) == sorted(r[0] for r in ROWS)
    assert counts(company)["ImportBatch"] == 1


def test_a_preview_made_while_another_import_is_written_is_refused_after_it(
    company: Database, tmp_path: Path
) -> None:
    """The preview cannot see the other import's customers yet. On a server others save
    customers meanwhile, with higher ids and later times than the import's own."""
    path = write_csv(tmp_path / "list.csv", ROWS)
    actor = owner_id(company)
    anna = add_user(company, "anna", Role.MANAGER, "Anna Li")
    made_meanwhile: list[ImportPlan] = []

    def while_the_other_import_writes(_done: int, _total: int, text: str) -> None:
        if text != "Finishing…" or made_meanwhile:
            return
        if not company.is_sqlite:  # SQLite lets one writer at a time
            with company.session(user_id=anna.id) as session:
                create_customer(
                    session, session.get_one(User, anna.id), CustomerInput(name="Blue Harbour")
                )
        made_meanwhile.append(preview(company, path))

    other = preview(company, path)
    apply_plan(company, actor, other, progress=Progress(while_the_other_import_writes))
    this_window = made_meanwhile[0]
    assert this_window.count(Outcome.CREATE) == 3

    with pytest.raises(NewRowsMatchNow, match=r"^3 rows that were new in the preview"):
        apply_plan(company, actor, this_window)
    assert counts(company)["ImportBatch"] == 1


@pytest.fixture
def another_import_running(company: Database) -> Iterator[None]:
    """On a server: another desktop's import holds the imports' turn."""
    if company.is_sqlite:
        pytest.skip("SQLite: the file's write lock is the turn, waited for by the driver")
    with company.engine.connect() as other_desktop:
        other_desktop.execute(text("SELECT pg_advisory_lock(:key)"), {"key": IMPORT_LOCK_KEY})
        yield
        other_desktop.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": IMPORT_LOCK_KEY})


@pytest.mark.usefixtures("another_import_running")
def test_an_import_waiting_for_its_turn_says_so_and_can_be_cancelled(
    company: Database, tmp_path: Path
) -> None:
    plan = preview(company, write_csv(tmp_path / "list.csv", ROWS))
    token = CancelToken()
    said: list[str] = []

    def on_progress(_done: int, _total: int, text: str) -> None:
        said.append(text)
        token.cancel()  # the person presses Cancel while it waits

    with pytest.raises(Cancelled):
        apply_plan(company, owner_id(company), plan, progress=Progress(on_progress, token))
    assert said == ["Waiting for another import to finish…"]
    assert counts(company)["Customer"] == 0


@pytest.mark.usefixtures("another_import_running")
def test_an_import_waits_for_its_turn_only_so_long(
    company: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apply_module, "IMPORT_WAIT_S", 0.3)
    plan = preview(company, write_csv(tmp_path / "list.csv", ROWS))
    with pytest.raises(ImportQueueTooLong, match="Another import was still being written after"):
        apply_plan(company, owner_id(company), plan)
    assert counts(company)["Customer"] == 0


def test_a_window_preview_is_refused_after_the_command_line_imported_the_file(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "list.csv", ROWS)
    plan = preview(company, path)
    url = company.url.render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if k not in ("SMBCRM_PASSWORD", "SMBCRM_USER")}
    done = subprocess.run(
        [sys.executable, "-m", "smbcrm", "--db", url, "import", str(path)],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "created    3" in done.stdout

    with pytest.raises(NewRowsMatchNow, match="Preview the file again"):
        apply_plan(company, owner_id(company), plan)
    assert names(company) == sorted(r[0] for r in ROWS)
