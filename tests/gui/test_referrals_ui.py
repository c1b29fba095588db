"""Referrals in the customer form and on the detail pane, offscreen."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pytestqt.qtbot import QtBot
from sqlalchemy import select

from smbcrm.models import Customer
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_detail import CustomerDetailPane
from smbcrm.ui.customer_dialog import CustomerDialog
from tests.factories import make_customer, make_order


def test_pick_who_referred_a_new_customer_and_see_it_on_the_referrer(
    qtbot: QtBot, ctx: AppContext
) -> None:
    with ctx.db.session(user_id=ctx.user_id) as session:
        referrer = make_customer(
            session, "华强电子有限公司", city="深圳", phones=["13800138000"]
        ).id

    dialog = CustomerDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name_edit, "Golden Sun Trading")
    picker = dialog.referred_by_picker
    qtbot.keyClicks(picker, "138 0013")
    qtbot.waitUntil(lambda: picker.choices.rowCount() == 1)
    picker.choose_row(0)
    assert picker.customer_id() == referrer
    assert dialog.save()
    with ctx.db.new_session() as session:
        new = session.scalars(select(Customer).where(Customer.name == "Golden Sun Trading")).one()
        assert new.referred_by_id == referrer
        new_id = new.id
    with ctx.db.session(user_id=ctx.user_id) as session:
        make_order(session, session.get_one(Customer, new_id), amount="2500")

    pane = CustomerDetailPane(ctx)
    qtbot.addWidget(pane)
    pane.show_customer(referrer)
    text = pane.overview_values["referred"].text()
    assert text.startswith("Golden Sun Trading — ¥2,500.00 revenue")

    # Editing the referrer to be referred by the customer they brought in is refused.
    edit = CustomerDialog(ctx, referrer)
    qtbot.addWidget(edit)
    edit.show()
    edit.referred_by_picker.set_customer(new_id, "Golden Sun Trading")
    assert not edit.save()
    assert "cannot be referred by someone they brought in" in edit.form_error.text()
    # The edit form shows the stored referrer by name.
    again = CustomerDialog(ctx, new_id)
    qtbot.addWidget(again)
    assert again.referred_by_picker.text() == "华强电子有限公司"
