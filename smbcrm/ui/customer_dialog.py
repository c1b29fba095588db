"""The customer form, for a new customer and for editing one.

Checks what is typed with :func:`smbcrm.services.customers.validate_customer_input` while the
user types and shows each problem in red under its field; Save stays disabled until the form
can be saved. As a name, phone, e-mail, city or tax ID is typed, a panel above the buttons
shows customers already in the book that look like the one being typed
(:func:`smbcrm.services.duplicates.similar_customers`, once typing pauses), each with Open —
the cheapest duplicate is the one never created. Saving anyway stays possible. Saving goes through ``create_customer`` / ``update_customer`` in one unit of work;
if someone else saved the same customer meanwhile, the user chooses to reload theirs or keep
their own.
"""

from __future__ import annotations

import html
import logging
import re
from enum import Enum

from PySide6.QtCore import QCoreApplication, QDate, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import ConflictError, SmbcrmError, ValidationError, worded
from smbcrm.models import CustomerKind, CustomerStatus, Tier
from smbcrm.models.keys import split_phones
from smbcrm.services import auth, customers, duplicates, ownership
from smbcrm.services.customers import CustomerInput
from smbcrm.services.duplicates import DraftIdentity, SimilarCustomer
from smbcrm.services.permissions import Permission
from smbcrm.services.ui_support import CustomerForm, customer_form
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_picker import CustomerPicker
from smbcrm.ui.customers_model import kind_label, status_label
from smbcrm.ui.style import ERROR_STYLE, text_width

log = logging.getLogger(__name__)

_LIST_SPLIT_RE = re.compile(r"[,;，；、\s]+")
_TAG_SPLIT_RE = re.compile(r"[,;，；、]+")
SIMILAR_STYLE = (
    "QFrame#similarPanel { background: #fff8e6; border: 1px solid #f1dfa6; border-radius: 6px; }"
    " QFrame#similarPanel QLabel { background: transparent; }"
)
SIMILAR_MUTED = "#6b7280"
# The look-up runs once typing pauses this long, so each keystroke stays instant.
SIMILAR_DELAY_MS = 300
SIMILAR_SHOWN = 3
SOURCE_SUGGESTIONS = ("Referral", "Trade show", "Website", "Cold call", "Walk-in", "WeChat")
# Service field name → the object name stem of the label showing its message.
ERROR_LABEL_NAMES = {
    "name": "nameError",
    "owner_id": "ownerError",
    "phones": "phonesError",
    "emails": "emailsError",
    "birthday": "birthdayError",
    "tax_id": "taxIdError",
}


def tr(text: str) -> str:
    return QCoreApplication.translate("CustomerDialog", text)


class ConflictChoice(Enum):
    RELOAD = "reload"
    KEEP_MINE = "keep mine"
    CANCEL = "cancel"


def _split_list(text: str, pattern: re.Pattern[str] = _LIST_SPLIT_RE) -> list[str]:
    return [part.strip() for part in pattern.split(text) if part.strip()]


class CustomerDialog(QDialog):
    """New customer (``customer_id=None``) or edit; ``saved_customer_id`` after accept."""

    # "Open" on a look-alike: show that customer instead (the dialog then closes).
    open_customer_requested = Signal(int)

    def __init__(
        self, ctx: AppContext, customer_id: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("customerDialog")
        self._ctx = ctx
        self._customer_id = customer_id
        self._version: int | None = None
        self._loaded: CustomerInput | None = None
        self._touched: set[str] = set()
        self._errors: dict[str, str] = {}
        self._read_only_reason: str | None = None
        self.saved_customer_id: int | None = None
        self.saved_customer_name: str | None = None
        self._may_reassign = ctx.can(Permission.REASSIGN)
        # Customers already in the book that look like the one in the form.
        self.similar: list[SimilarCustomer] = []
        self._similar_timer = QTimer(self)
        self._similar_timer.setSingleShot(True)
        self._similar_timer.setInterval(SIMILAR_DELAY_MS)
        self._similar_timer.timeout.connect(self.check_similar)

        self._build()
        self._wire()
        if customer_id is None:
            self.setWindowTitle(tr("New customer"))
            self._fill_owner_choices(None, None, owner_active=True)
            self._select_owner(ctx.user_id)
            self._on_kind_changed()
        else:
            self._load(customer_id)
        self._validate()
        self.name_edit.setFocus()

    # -- building -------------------------------------------------------------------------
    def _error_label(self, field: str) -> QLabel:
        label = QLabel()
        label.setObjectName(ERROR_LABEL_NAMES[field])
        label.setStyleSheet(ERROR_STYLE)
        label.setWordWrap(True)
        label.hide()
        self.error_labels[field] = label
        return label

    @staticmethod
    def _with_error(widget: QWidget, error: QLabel, hint: QLabel | None = None) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(widget)
        layout.addWidget(error)
        if hint is not None:
            layout.addWidget(hint)
        return box

    @staticmethod
    def _hint_label(object_name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(object_name)
        label.setWordWrap(True)
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        label.hide()
        return label

    @staticmethod
    def _line_edit(object_name: str, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(object_name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(False)
        return edit

    @staticmethod
    def _add_row(
        form: QFormLayout,
        text: str,
        field: QWidget | QHBoxLayout,
        buddy: QWidget | None = None,
    ) -> None:
        """A row whose label's Alt+letter jumps to ``buddy`` (the field itself by default)."""
        label = QLabel(text)
        target = buddy if buddy is not None else field
        if isinstance(target, QWidget):
            label.setBuddy(target)
        form.addRow(label, field)

    @staticmethod
    def _form() -> QFormLayout:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        return form

    def _build(self) -> None:
        self.error_labels: dict[str, QLabel] = {}
        self.banner = QLabel()
        self.banner.setObjectName("customerDialogBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "QLabel { background: #fff4e5; color: #7a4b00; border-radius: 4px; padding: 6px; }"
        )
        self.banner.hide()

        # Customer
        self.name_edit = self._line_edit(
            "nameEdit", tr("Company or person, e.g. 深圳市华强电子有限公司")
        )
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("kindCombo")
        for kind in CustomerKind:
            self.kind_combo.addItem(kind_label(kind), kind)
        self.status_combo = QComboBox()
        self.status_combo.setObjectName("statusCombo")
        for status in CustomerStatus:
            self.status_combo.addItem(status_label(status), status)
        self.owner_combo = QComboBox()
        self.owner_combo.setObjectName("ownerCombo")
        if not self._may_reassign:
            self.owner_combo.setEnabled(False)
            self.owner_combo.setToolTip(
                tr("Only an owner or manager can choose who is responsible for a customer.")
            )
        self.tier_combo = QComboBox()
        self.tier_combo.setObjectName("tierCombo")
        self.tier_combo.addItem(tr("— None —"), None)
        for tier in Tier:
            self.tier_combo.addItem(tier.value, tier)
        # Worked out from revenue whenever the at-risk page is opened: a choice here would
        # not last, so the form shows it without offering it.
        self.tier_combo.setEnabled(False)
        self.tier_combo.setToolTip(
            tr(
                "Set from the last 12 months' revenue: A brings the first 80%, B the next "
                "15%, C the rest. Prospects who never bought have none."
            )
        )
        self.source_combo = QComboBox()
        self.source_combo.setObjectName("sourceCombo")
        self.source_combo.setEditable(True)
        self.source_combo.addItem("")
        for source in SOURCE_SUGGESTIONS:
            self.source_combo.addItem(tr(source))
        self.source_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        source_line = self.source_combo.lineEdit()
        if source_line is not None:
            source_line.setPlaceholderText(tr("How they found us"))
        self.tags_edit = self._line_edit("tagsEdit", tr("Separated by commas: VIP, 华南"))
        self.referred_by_picker = CustomerPicker(self._ctx, exclude_id=self._customer_id)
        self.referred_by_picker.setObjectName("referredByPicker")
        self.referred_by_picker.setPlaceholderText(tr("The customer who recommended them"))

        kind_row = QHBoxLayout()
        kind_row.addWidget(self.kind_combo, 1)
        kind_row.addWidget(QLabel(tr("Status:")))
        kind_row.addWidget(self.status_combo, 1)
        owner_row = QHBoxLayout()
        owner_row.addWidget(self.owner_combo, 3)
        owner_row.addWidget(QLabel(tr("Tier:")))
        owner_row.addWidget(self.tier_combo, 1)

        customer_box = QGroupBox(tr("Customer"))
        form = self._form()
        self._add_row(
            form,
            tr("&Name*:"),
            self._with_error(self.name_edit, self._error_label("name")),
            self.name_edit,
        )
        self._add_row(form, tr("&Kind:"), kind_row, self.kind_combo)
        owner_box = QWidget()
        owner_box_layout = QVBoxLayout(owner_box)
        owner_box_layout.setContentsMargins(0, 0, 0, 0)
        owner_box_layout.setSpacing(2)
        owner_box_layout.addLayout(owner_row)
        owner_box_layout.addWidget(self._error_label("owner_id"))
        self._add_row(form, tr("&Owner:"), owner_box, self.owner_combo)
        self._add_row(form, tr("So&urce:"), self.source_combo)
        self._add_row(form, tr("Referred b&y:"), self.referred_by_picker)
        self._add_row(form, tr("T&ags:"), self.tags_edit)
        customer_box.setLayout(form)

        # Contact
        self.contact_name_edit = self._line_edit("contactNameEdit", tr("Main contact person"))
        self.contact_title_edit = self._line_edit("contactTitleEdit", tr("e.g. 采购经理"))
        self.phone_edit = self._line_edit("phoneEdit", tr("138 0013 8000, 0755-8888 9999"))
        self.phone_edit.setToolTip(tr("Several numbers: separate them with commas or semicolons."))
        self.email_edit = self._line_edit("emailEdit", tr("name@example.com"))
        self.email_edit.setToolTip(tr("Several addresses: separate them with commas."))
        self.wechat_edit = self._line_edit("wechatEdit", tr("WeChat ID"))
        self.contact_phones_hint = self._hint_label("contactPhonesHint")
        self.contact_emails_hint = self._hint_label("contactEmailsHint")
        contact_row = QHBoxLayout()
        contact_row.addWidget(self.contact_name_edit, 3)
        contact_row.addWidget(QLabel(tr("Title:")))
        contact_row.addWidget(self.contact_title_edit, 2)
        contact_box = QGroupBox(tr("Contact"))
        form = self._form()
        self._add_row(form, tr("&Contact:"), contact_row, self.contact_name_edit)
        self._add_row(
            form,
            tr("&Phones:"),
            self._with_error(
                self.phone_edit, self._error_label("phones"), self.contact_phones_hint
            ),
            self.phone_edit,
        )
        self._add_row(
            form,
            tr("&E-mail:"),
            self._with_error(
                self.email_edit, self._error_label("emails"), self.contact_emails_hint
            ),
            self.email_edit,
        )
        self._add_row(form, tr("&WeChat:"), self.wechat_edit)
        contact_box.setLayout(form)

        # Address
        self.province_edit = self._line_edit("provinceEdit", tr("Province"))
        self.city_edit = self._line_edit("cityEdit", tr("City"))
        self.district_edit = self._line_edit("districtEdit", tr("District"))
        self.address_edit = self._line_edit("addressEdit", tr("Street and number"))
        self.postcode_edit = self._line_edit("postcodeEdit")
        self.postcode_edit.setMaximumWidth(self.fontMetrics().horizontalAdvance("0") * 12)
        self.website_edit = self._line_edit("websiteEdit", "https://")
        place_row = QHBoxLayout()
        place_row.addWidget(self.province_edit)
        place_row.addWidget(self.city_edit)
        place_row.addWidget(self.district_edit)
        web_row = QHBoxLayout()
        web_row.addWidget(self.postcode_edit)
        web_row.addWidget(QLabel(tr("Website:")))
        web_row.addWidget(self.website_edit, 1)
        address_box = QGroupBox(tr("Address"))
        form = self._form()
        self._add_row(form, tr("P&lace:"), place_row, self.province_edit)
        self._add_row(form, tr("A&ddress:"), self.address_edit)
        self._add_row(form, tr("Post&code:"), web_row, self.postcode_edit)
        address_box.setLayout(form)

        # Details
        self.birthday_check = QCheckBox(tr("Known"))
        self.birthday_check.setObjectName("birthdayCheck")
        self.birthday_edit = QDateEdit()
        self.birthday_edit.setObjectName("birthdayEdit")
        self.birthday_edit.setCalendarPopup(True)
        self.birthday_edit.setDisplayFormat("yyyy-MM-dd")
        self.birthday_edit.setMinimumDate(QDate(1900, 1, 1))
        self.birthday_edit.setMaximumDate(QDate.currentDate())
        self.birthday_edit.setDate(QDate(1980, 1, 1))
        self.birthday_edit.setEnabled(False)
        birthday_row = QHBoxLayout()
        birthday_row.addWidget(self.birthday_check)
        birthday_row.addWidget(self.birthday_edit, 1)
        birthday_box = QWidget()
        birthday_layout = QVBoxLayout(birthday_box)
        birthday_layout.setContentsMargins(0, 0, 0, 0)
        birthday_layout.setSpacing(2)
        birthday_layout.addLayout(birthday_row)
        birthday_layout.addWidget(self._error_label("birthday"))
        self.tax_id_edit = self._line_edit("taxIdEdit", tr("统一社会信用代码 / VAT number"))
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setObjectName("notesEdit")
        self.notes_edit.setPlaceholderText(
            tr("What the company should know: preferences, history, how to approach them…")
        )
        self.notes_edit.setTabChangesFocus(True)
        details_box = QGroupBox(tr("Details"))
        form = self._form()
        self._add_row(form, tr("Bi&rthday:"), birthday_box, self.birthday_check)
        self._add_row(
            form,
            tr("Ta&x ID:"),
            self._with_error(self.tax_id_edit, self._error_label("tax_id")),
            self.tax_id_edit,
        )
        details_box.setLayout(form)
        notes_box = QGroupBox(tr("No&tes"))
        notes_layout = QVBoxLayout(notes_box)
        notes_layout.addWidget(self.notes_edit)
        self.notes_edit.setMinimumHeight(self.fontMetrics().lineSpacing() * 4)

        self._build_similar_panel()

        self.form_error = QLabel()
        self.form_error.setObjectName("formError")
        self.form_error.setStyleSheet(ERROR_STYLE)
        self.form_error.setWordWrap(True)
        self.form_error.hide()

        self.buttons = QDialogButtonBox()
        self.save_button = QPushButton(tr("&Save"))
        self.save_button.setObjectName("saveButton")
        self.save_button.setShortcut(QKeySequence(QKeySequence.StandardKey.Save))
        self.save_button.setDefault(True)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        if cancel is not None:
            cancel.setObjectName("cancelButton")

        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.addWidget(customer_box, 0, 0)
        grid.addWidget(contact_box, 1, 0)
        grid.addWidget(address_box, 0, 1)
        grid.addWidget(details_box, 1, 1)
        grid.addWidget(notes_box, 2, 0, 1, 2)
        grid.setRowStretch(2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(grid, 1)
        layout.addWidget(self.similar_panel)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(text_width(self, 150))

    def _build_similar_panel(self) -> None:
        self.similar_panel = QFrame()
        self.similar_panel.setObjectName("similarPanel")
        self.similar_panel.setStyleSheet(SIMILAR_STYLE)
        title = QLabel(tr("This may be a customer you already have:"))
        title.setObjectName("similarTitle")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.similar_rows = QVBoxLayout()
        self.similar_rows.setSpacing(4)
        panel_layout = QVBoxLayout(self.similar_panel)
        panel_layout.setContentsMargins(10, 8, 10, 8)
        panel_layout.setSpacing(6)
        panel_layout.addWidget(title)
        panel_layout.addLayout(self.similar_rows)
        self.similar_panel.hide()

    def _wire(self) -> None:
        self.save_button.clicked.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        self.birthday_check.toggled.connect(self._on_birthday_toggled)
        self.birthday_edit.dateChanged.connect(self._validate)
        for field, edit in (
            ("name", self.name_edit),
            ("phones", self.phone_edit),
            ("emails", self.email_edit),
            ("tax_id", self.tax_id_edit),
        ):
            edit.textChanged.connect(self._validate)
            edit.editingFinished.connect(lambda field=field: self._touch(field))
        self.owner_combo.currentIndexChanged.connect(self._validate)
        # Only what the person types starts a look-up (not filling the form to edit it).
        for edit in (
            self.name_edit,
            self.phone_edit,
            self.email_edit,
            self.city_edit,
            self.tax_id_edit,
        ):
            edit.textEdited.connect(lambda _text: self._similar_timer.start())
        self.kind_combo.activated.connect(lambda _index: self._similar_timer.start())

    # -- loading --------------------------------------------------------------------------
    def _fill_owner_choices(
        self, owner_id: int | None, owner_name: str | None, *, owner_active: bool
    ) -> None:
        self.owner_combo.clear()
        self.owner_combo.addItem(tr("— Unassigned —"), None)
        try:
            with self._ctx.read_session() as session:
                staff = [
                    (u.id, u.full_name)
                    for u in auth.active_staff(session)
                    if ownership.may_own_customers(u)
                ]
        except SQLAlchemyError:
            log.warning("Reading the staff list failed", exc_info=True)
            staff = []
        for user_id, full_name in staff:
            self.owner_combo.addItem(full_name, user_id)
        if owner_id is not None and self.owner_combo.findData(owner_id) < 0:
            # Keep a departed owner (or one who may no longer own customers) visible, so
            # saving does not silently change the owner.
            label = owner_name or tr("Staff #{id}").format(id=owner_id)
            if not owner_active:
                label = tr("{name} (inactive)").format(name=label)
            self.owner_combo.addItem(label, owner_id)

    def _select_owner(self, owner_id: int | None) -> None:
        index = self.owner_combo.findData(owner_id)
        self.owner_combo.setCurrentIndex(max(index, 0))

    def _load(self, customer_id: int) -> None:
        try:
            with self._ctx.unit_of_work() as (session, user):
                form = customer_form(session, user, customer_id, region=self._ctx.region)
        except SmbcrmError as exc:
            self._make_read_only(str(exc))
            self.setWindowTitle(tr("Edit customer"))
            return
        except SQLAlchemyError:
            log.warning("Reading customer %s failed", customer_id, exc_info=True)
            self._make_read_only(
                tr(
                    "The customer could not be read from the database. Check the connection "
                    "to the database and try again."
                )
            )
            return
        self._fill(form)

    def _fill(self, form: CustomerForm) -> None:
        data = form.data
        self._version = form.version
        self._loaded = data
        self.setWindowTitle(tr("Edit {name}").format(name=data.name))
        self._fill_owner_choices(data.owner_id, form.owner_name, owner_active=form.owner_active)
        self._select_owner(data.owner_id)
        self.name_edit.setText(data.name)
        self.kind_combo.setCurrentIndex(max(self.kind_combo.findData(data.kind), 0))
        self.status_combo.setCurrentIndex(max(self.status_combo.findData(data.status), 0))
        self.tier_combo.setCurrentIndex(max(self.tier_combo.findData(data.tier), 0))
        self.source_combo.setCurrentText(data.source or "")
        self.referred_by_picker.set_customer(data.referred_by_id, form.referred_by_name)
        self.tags_edit.setText(", ".join(data.tags))
        self.contact_name_edit.setText(data.contact_name or "")
        self.contact_title_edit.setText(data.contact_title or "")
        self.phone_edit.setText(", ".join(data.phones))
        self.email_edit.setText(", ".join(data.emails))
        self.wechat_edit.setText(data.wechat or "")
        self.province_edit.setText(data.province or "")
        self.city_edit.setText(data.city or "")
        self.district_edit.setText(data.district or "")
        self.address_edit.setText(data.address or "")
        self.postcode_edit.setText(data.postcode or "")
        self.website_edit.setText(data.website or "")
        self.tax_id_edit.setText(data.tax_id or "")
        self.notes_edit.setPlainText(data.notes or "")
        self.birthday_check.setChecked(data.birthday is not None)
        if data.birthday is not None:
            self.birthday_edit.setMinimumDate(QDate(1800, 1, 1))
            self.birthday_edit.setDate(
                QDate(data.birthday.year, data.birthday.month, data.birthday.day)
            )
        for hint, values, what in (
            (self.contact_phones_hint, form.contact_phones, tr("Contacts' numbers")),
            (self.contact_emails_hint, form.contact_emails, tr("Contacts' addresses")),
        ):
            hint.setText(f"{what}: {', '.join(values)}" if values else "")
            hint.setVisible(bool(values))
        self._on_kind_changed()
        # Problems already stored (say, an imported junk phone) show at once.
        self._touched = set(ERROR_LABEL_NAMES)
        if form.edit_denied:
            self._make_read_only(form.edit_denied)
        else:
            self.banner.hide()
            self._read_only_reason = None
        self._validate()

    def _make_read_only(self, reason: str) -> None:
        self._read_only_reason = reason
        self.banner.setText(reason)
        self.banner.show()
        # Nothing can be saved, so nothing invites typing: the fields show, they do not edit.
        for editor in self.findChildren(QLineEdit) + self.findChildren(QPlainTextEdit):
            editor.setReadOnly(True)
        for choice in self.findChildren(QComboBox) + self.findChildren(QCheckBox):
            choice.setEnabled(False)
        for picker in self.findChildren(QDateEdit):
            picker.setReadOnly(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        if cancel is not None:
            cancel.setText(tr("Close"))
        self._validate()

    # -- reading the form -----------------------------------------------------------------
    def customer_input(self) -> CustomerInput:
        """The form as the services take it; fields the form does not show are kept."""
        kind = CustomerKind(self.kind_combo.currentData())
        is_person = kind == CustomerKind.PERSON
        birthday = None
        if is_person and self.birthday_check.isChecked():
            birthday = self.birthday_edit.date().toPython()
        loaded = self._loaded
        tier = self.tier_combo.currentData()
        return CustomerInput(
            name=self.name_edit.text(),
            kind=kind,
            status=CustomerStatus(self.status_combo.currentData()),
            owner_id=self.owner_combo.currentData(),
            tier=Tier(tier) if tier else None,
            source=self.source_combo.currentText(),
            referred_by_id=self.referred_by_picker.customer_id(),
            birthday=birthday,  # type: ignore[arg-type]
            tax_id=None if is_person else self.tax_id_edit.text(),
            country=loaded.country if loaded else None,
            province=self.province_edit.text(),
            city=self.city_edit.text(),
            district=self.district_edit.text(),
            address=self.address_edit.text(),
            postcode=self.postcode_edit.text(),
            website=self.website_edit.text(),
            notes=self.notes_edit.toPlainText(),
            phones=split_phones(self.phone_edit.text()),
            emails=_split_list(self.email_edit.text()),
            wechat=self.wechat_edit.text(),
            contact_name=self.contact_name_edit.text(),
            contact_title=self.contact_title_edit.text(),
            tags=_split_list(self.tags_edit.text(), _TAG_SPLIT_RE),
            team_ids=list(loaded.team_ids) if loaded else [],
        )

    def draft_identity(self) -> DraftIdentity:
        """What identifies the customer typed so far, as the duplicate look-up takes it."""
        data = self.customer_input()
        return DraftIdentity(
            name=data.name.strip(),
            kind=data.kind,
            phones=tuple(p for p in data.phones if p.strip()),
            emails=tuple(e for e in data.emails if e.strip()),
            city=(data.city or "").strip() or None,
            tax_id=(data.tax_id or "").strip() or None,
            birthday=data.birthday,
            address=(data.address or "").strip() or None,
            postcode=(data.postcode or "").strip() or None,
            region=self._ctx.region,
        )

    # -- look-alikes ----------------------------------------------------------------------
    def check_similar(self) -> list[SimilarCustomer]:
        """Look up customers like the one typed and show them (the timer calls this)."""
        self._similar_timer.stop()
        draft = self.draft_identity()
        if not (draft.name or draft.phones or draft.emails or draft.tax_id):
            self._show_similar([])
            return []
        try:
            with self._ctx.read_session() as session:
                found = duplicates.similar_customers(
                    session, draft, limit=SIMILAR_SHOWN, exclude_id=self._customer_id
                )
        except (SmbcrmError, SQLAlchemyError):
            # A hint, not a gate: if it cannot be worked out, the form carries on without it.
            log.warning("Looking up similar customers failed", exc_info=True)
            found = []
        self._show_similar(found[:SIMILAR_SHOWN])
        return self.similar

    def _show_similar(self, found: list[SimilarCustomer]) -> None:
        self.similar = found
        while self.similar_rows.count():
            item = self.similar_rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for match in found:
            self.similar_rows.addWidget(self._similar_row(match))
        self.similar_panel.setVisible(bool(found))

    def _similar_row(self, match: SimilarCustomer) -> QWidget:
        row = QWidget()
        row.setObjectName(f"similar_{match.id}")
        facts = [match.city, match.phone, match.owner or tr("unassigned")]
        details = " · ".join(html.escape(f) for f in facts if f)
        why = "; ".join(map(worded, match.reasons))
        text = QLabel(
            f"<b>{html.escape(match.name)}</b>"
            + (f" &nbsp;·&nbsp; {details}" if details else "")
            + f"<br><span style='color:{SIMILAR_MUTED}'>"
            + html.escape(
                tr("{score}% alike: {why}").format(score=f"{match.score:.0f}", why=why)
                if match.score
                else why[:1].upper() + why[1:]  # on file already; the names differ
            )
            + "</span>"
        )
        text.setObjectName("similarText")
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        open_button = QPushButton(tr("Open"))
        open_button.setObjectName("similarOpen")
        open_button.setAutoDefault(False)
        open_button.setToolTip(
            tr("Show {name} instead of adding a new customer").format(name=match.name)
        )
        open_button.clicked.connect(lambda: self.open_similar(match.id))
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(text, 1)
        layout.addWidget(open_button, 0, Qt.AlignmentFlag.AlignVCenter)
        return row

    def done(self, result: int) -> None:
        self._similar_timer.stop()  # closed: no look-up for a form nobody sees
        super().done(result)

    def open_similar(self, customer_id: int) -> None:
        """Show that customer instead: the form closes without saving."""
        self._similar_timer.stop()
        self.open_customer_requested.emit(customer_id)
        self.reject()

    # -- validation -----------------------------------------------------------------------
    def _on_kind_changed(self) -> None:
        is_person = self.kind_combo.currentData() == CustomerKind.PERSON
        self.birthday_check.setEnabled(is_person)
        self.birthday_edit.setEnabled(is_person and self.birthday_check.isChecked())
        self.tax_id_edit.setEnabled(not is_person)
        hint = "" if is_person else tr("Only a person has a birthday.")
        self.birthday_check.setToolTip(hint)
        self.birthday_edit.setToolTip(hint)
        self.tax_id_edit.setToolTip(
            tr("A person has no tax / registration number here.") if is_person else ""
        )
        self._validate()

    def _on_birthday_toggled(self, checked: bool) -> None:
        self.birthday_edit.setEnabled(checked and self.birthday_check.isEnabled())
        self._touch("birthday")

    def _touch(self, field: str) -> None:
        self._touched.add(field)
        self._validate()

    def _validate(self) -> dict[str, str]:
        errors = {
            field: worded(message)
            for field, message in customers.validate_customer_input(
                self.customer_input(), self._ctx.region
            ).items()
        }
        self._errors = errors
        self._show_errors({k: v for k, v in errors.items() if k in self._touched})
        return errors

    def _show_errors(self, errors: dict[str, str]) -> None:
        for field, label in self.error_labels.items():
            message = errors.get(field, "")
            label.setText(message)
            label.setVisible(bool(message))
        others = [message for field, message in errors.items() if field not in self.error_labels]
        self.form_error.setText("\n".join(others))
        self.form_error.setVisible(bool(others))
        self._update_save_button()

    def _update_save_button(self) -> None:
        blocked = self._read_only_reason or next(iter(self._errors.values()), None)
        self.save_button.setEnabled(blocked is None)
        self.save_button.setToolTip(blocked or tr("Save the customer (Ctrl+S)"))

    @property
    def field_errors(self) -> dict[str, str]:
        """Every problem with the form as it stands, shown or not yet."""
        return dict(self._errors)

    # -- saving ---------------------------------------------------------------------------
    def save(self, *, expected_version: int | None = None) -> bool:
        """Save the form; True when saved (the dialog is then accepted)."""
        self._touched = set(ERROR_LABEL_NAMES)
        if self._validate() or self._read_only_reason:
            return False
        data = self.customer_input()
        version = expected_version if expected_version is not None else self._version
        try:
            with self._ctx.unit_of_work() as (session, user):
                if self._customer_id is None:
                    customer = customers.create_customer(
                        session, user, data, region=self._ctx.region
                    )
                else:
                    customer = customers.update_customer(
                        session,
                        user,
                        self._customer_id,
                        data,
                        expected_version=version,
                        region=self._ctx.region,
                    )
                saved_id, saved_name = customer.id, customer.name
        except ValidationError as exc:
            self._touched |= set(exc.field_errors)
            self._errors = exc.field_errors
            self._show_errors(exc.field_errors)
            return False
        except ConflictError as exc:
            return self._resolve_conflict(str(exc))
        except SmbcrmError as exc:  # permission denied, customer gone...
            QMessageBox.warning(self, tr("The customer was not saved"), str(exc))
            return False
        except SQLAlchemyError:
            log.exception("Saving a customer failed")
            QMessageBox.warning(
                self,
                tr("The customer was not saved"),
                tr(
                    "The database did not accept the change, so nothing was saved. Try again; "
                    "if it keeps failing, check the connection to the database."
                ),
            )
            return False
        self.saved_customer_id = saved_id
        self.saved_customer_name = saved_name
        self.accept()
        return True

    def ask_conflict_resolution(self, message: str) -> ConflictChoice:
        box = QMessageBox(self)
        box.setObjectName("conflictBox")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(tr("Someone else saved this customer"))
        box.setText(message)
        box.setInformativeText(
            tr(
                "Reload shows their version (your changes are dropped). Keep mine saves your "
                "version over theirs."
            )
        )
        reload_button = box.addButton(tr("Reload"), QMessageBox.ButtonRole.ResetRole)
        keep_button = box.addButton(tr("Keep mine"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(reload_button)
        box.exec()
        clicked = box.clickedButton()
        if clicked is reload_button:
            return ConflictChoice.RELOAD
        if clicked is keep_button:
            return ConflictChoice.KEEP_MINE
        return ConflictChoice.CANCEL

    def _resolve_conflict(self, message: str) -> bool:
        choice = self.ask_conflict_resolution(message)
        if choice == ConflictChoice.CANCEL or self._customer_id is None:
            return False
        try:
            with self._ctx.unit_of_work() as (session, user):
                current = customer_form(session, user, self._customer_id, region=self._ctx.region)
        except (SmbcrmError, SQLAlchemyError) as exc:
            log.warning("Reloading customer %s failed", self._customer_id, exc_info=True)
            QMessageBox.warning(
                self,
                tr("The customer could not be reloaded"),
                str(exc)
                if isinstance(exc, SmbcrmError)
                else tr("The database could not be read. Check the connection and try again."),
            )
            return False
        if choice == ConflictChoice.RELOAD:
            self._fill(current)
            return False
        return self.save(expected_version=current.version)
