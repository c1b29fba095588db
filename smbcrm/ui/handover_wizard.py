"""The handover wizard: someone leaves, their whole book goes to colleagues in one step.

Pages: choose the leaver (their book summarised) → how to split it (one colleague, an even
split balanced by current load, or a rule by city or tier) → preview (who gets what, load
before and after) → apply on a worker thread with progress → summary. The leaver is
deactivated only when the handover has been applied, in the same transaction
(``services.ownership.deactivate_staff``); nothing here touches the database directly.
Only colleagues who may be responsible for customers (``ownership.may_own_customers``: not a
bookkeeper) are offered to take over.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import SmbcrmError
from smbcrm.models import User
from smbcrm.services import auth, ownership
from smbcrm.services.ownership import HandoverPlan, HandoverResult, Strategy, Workload
from smbcrm.services.progress import Progress
from smbcrm.ui import counts
from smbcrm.ui.context import AppContext
from smbcrm.ui.workers import Worker, unexpected_error_text


def tr(text: str) -> str:
    return QCoreApplication.translate("HandoverWizard", text)


def _book_text(load: Workload) -> str:
    return tr("{customers}, {prospects}, {tasks}, {cases}, on {teams}").format(
        customers=counts.customers(load.customers),
        prospects=counts.prospects(load.prospects),
        tasks=counts.open_follow_ups(load.open_follow_ups),
        cases=counts.open_cases(load.open_cases),
        teams=counts.account_teams(load.team_places),
    )


class LeaverPage(QWizardPage):
    def __init__(self, wizard: HandoverWizard) -> None:
        super().__init__(wizard)
        self.setObjectName("leaverPage")
        self._wizard = wizard
        self.setTitle(tr("Who is leaving?"))
        self.setSubTitle(
            tr(
                "Their customers, prospects and open follow-ups go to colleagues; their past "
                "calls and visits stay under their name."
            )
        )
        self.leaver_combo = QComboBox(self)
        self.leaver_combo.setObjectName("leaverCombo")
        self.book_label = QLabel(self)
        self.book_label.setObjectName("leaverBook")
        self.book_label.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(tr("Staff member:"), self.leaver_combo)
        form.addRow(tr("Their book:"), self.book_label)
        self.leaver_combo.currentIndexChanged.connect(self._show_book)

    def fill(self, staff: list[Workload], leaver_id: int | None) -> None:
        self.leaver_combo.blockSignals(True)
        self.leaver_combo.clear()
        for load in staff:
            if load.active and load.user_id != self._wizard.ctx.user_id:
                self.leaver_combo.addItem(load.full_name, load.user_id)
        index = self.leaver_combo.findData(leaver_id) if leaver_id is not None else 0
        self.leaver_combo.setCurrentIndex(max(index, 0))
        self.leaver_combo.blockSignals(False)
        self._show_book()

    def leaver_id(self) -> int | None:
        data = self.leaver_combo.currentData()
        return int(data) if data is not None else None

    def _show_book(self) -> None:
        load = self._wizard.loads.get(self.leaver_id() or -1)
        self.book_label.setText(_book_text(load) if load else tr("Choose who is leaving."))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.leaver_id() is not None


class StrategyPage(QWizardPage):
    def __init__(self, wizard: HandoverWizard) -> None:
        super().__init__(wizard)
        self.setObjectName("strategyPage")
        self._wizard = wizard
        self.setTitle(tr("Who takes over?"))
        self.setSubTitle(tr("Everything moves in one step; you see a preview first."))
        self.one_radio = QRadioButton(tr("One colleague takes everything"), self)
        self.one_radio.setObjectName("oneColleagueRadio")
        self.even_radio = QRadioButton(
            tr("Split evenly among the colleagues ticked below (by current load)"), self
        )
        self.even_radio.setObjectName("evenSplitRadio")
        self.city_radio = QRadioButton(tr("By city (the rest split among those ticked)"), self)
        self.city_radio.setObjectName("byCityRadio")
        self.tier_radio = QRadioButton(tr("By tier (the rest split among those ticked)"), self)
        self.tier_radio.setObjectName("byTierRadio")
        self.group = QButtonGroup(self)
        for radio in (self.one_radio, self.even_radio, self.city_radio, self.tier_radio):
            self.group.addButton(radio)
        self.colleague_combo = QComboBox(self)
        self.colleague_combo.setObjectName("colleagueCombo")
        self.colleagues = QListWidget(self)
        self.colleagues.setObjectName("colleagueList")
        self.rule_table = QTableWidget(0, 3, self)
        self.rule_table.setObjectName("ruleTable")
        self.rule_table.setHorizontalHeaderLabels([tr("Value"), tr("Customers"), tr("Goes to")])
        self.rule_table.verticalHeader().hide()
        self.rule_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setObjectName("handoverReason")
        self.reason_edit.setPlaceholderText(tr("Why (kept in each customer's history)"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.one_radio)
        layout.addWidget(self.colleague_combo)
        layout.addWidget(self.even_radio)
        layout.addWidget(self.city_radio)
        layout.addWidget(self.tier_radio)
        layout.addWidget(self.colleagues, 1)
        layout.addWidget(self.rule_table, 1)
        layout.addWidget(QLabel(tr("Reason, kept in each customer's history:"), self))
        layout.addWidget(self.reason_edit)
        self.group.buttonToggled.connect(lambda *_args: self._update())
        self.colleagues.itemChanged.connect(lambda _item: self.completeChanged.emit())
        self.even_radio.setChecked(True)

    def initializePage(self) -> None:
        leaver = self._wizard.leaver_page.leaver_id()
        self.colleague_combo.clear()
        self.colleagues.clear()
        for load in self._wizard.loads.values():
            if load.user_id not in self._wizard.recipient_ids or load.user_id == leaver:
                continue
            self.colleague_combo.addItem(load.full_name, load.user_id)
            item = QListWidgetItem(
                tr("{name} — now {n} accounts, {t} open follow-ups").format(
                    name=load.full_name, n=load.accounts, t=load.open_follow_ups
                ),
                self.colleagues,
            )
            item.setData(Qt.ItemDataRole.UserRole, load.user_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        if not self.reason_edit.text():
            name = self._wizard.leaver_page.leaver_combo.currentText()
            self.reason_edit.setText(tr("{name} left the company").format(name=name))
        self._update()

    def strategy(self) -> Strategy:
        if self.one_radio.isChecked():
            return Strategy.ONE_COLLEAGUE
        if self.city_radio.isChecked():
            return Strategy.BY_CITY
        if self.tier_radio.isChecked():
            return Strategy.BY_TIER
        return Strategy.EVEN_SPLIT

    def checked(self) -> list[int]:
        out = []
        for row in range(self.colleagues.count()):
            item = self.colleagues.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def recipients(self) -> list[int]:
        if self.strategy() == Strategy.ONE_COLLEAGUE:
            data = self.colleague_combo.currentData()
            return [int(data)] if data is not None else []
        return self.checked()

    def rule(self) -> dict[str, int]:
        rule: dict[str, int] = {}
        for row in range(self.rule_table.rowCount()):
            combo = self.rule_table.cellWidget(row, 2)
            value = self.rule_table.item(row, 0)
            if isinstance(combo, QComboBox) and value is not None:
                target = combo.currentData()
                if target is not None:
                    rule[str(value.data(Qt.ItemDataRole.UserRole))] = int(target)
        return rule

    def _update(self) -> None:
        strategy = self.strategy()
        self.colleague_combo.setEnabled(strategy == Strategy.ONE_COLLEAGUE)
        self.colleagues.setEnabled(strategy != Strategy.ONE_COLLEAGUE)
        by_rule = strategy in (Strategy.BY_CITY, Strategy.BY_TIER)
        self.rule_table.setVisible(by_rule)
        if by_rule:
            self._fill_rule(strategy)
        self.completeChanged.emit()

    def _fill_rule(self, strategy: Strategy) -> None:
        leaver = self._wizard.leaver_page.leaver_id()
        if leaver is None:
            return
        try:
            with self._wizard.ctx.read_session() as session:
                values = ownership.rule_values(session, leaver, strategy)
        except (SQLAlchemyError, SmbcrmError) as exc:
            self._wizard.show_error(unexpected_error_text(exc))
            return
        self.rule_table.setRowCount(len(values))
        for row, (value, count) in enumerate(values):
            item = QTableWidgetItem(value or tr("(none)"))
            item.setData(Qt.ItemDataRole.UserRole, value)
            self.rule_table.setItem(row, 0, item)
            self.rule_table.setItem(row, 1, QTableWidgetItem(f"{count:,}"))
            combo = QComboBox(self.rule_table)
            combo.addItem(tr("— split among those ticked —"), None)
            for i in range(self.colleague_combo.count()):
                combo.addItem(self.colleague_combo.itemText(i), self.colleague_combo.itemData(i))
            self.rule_table.setCellWidget(row, 2, combo)

    def isComplete(self) -> bool:
        if not self.reason_edit.text().strip():
            return False
        if self.strategy() in (Strategy.BY_CITY, Strategy.BY_TIER):
            return True  # the preview says what the rule leaves uncovered
        return bool(self.recipients())


class PreviewPage(QWizardPage):
    def __init__(self, wizard: HandoverWizard) -> None:
        super().__init__(wizard)
        self.setObjectName("previewPage")
        self._wizard = wizard
        self.setTitle(tr("Preview"))
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, tr("Hand over and deactivate"))
        self.summary = QLabel(self)
        self.summary.setObjectName("previewSummary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 6, self)
        self.table.setObjectName("previewTable")
        self.table.setHorizontalHeaderLabels(
            [
                tr("Colleague"),
                tr("Customers"),
                tr("Prospects"),
                tr("Follow-ups"),
                tr("Cases"),
                tr("Load"),
            ]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def initializePage(self) -> None:
        self._wizard.plan = None
        strategy_page = self._wizard.strategy_page
        leaver = self._wizard.leaver_page.leaver_id()
        self.table.setRowCount(0)
        try:
            with self._wizard.ctx.read_session() as session:
                plan = ownership.plan_handover(
                    session,
                    leaver or 0,
                    strategy_page.strategy(),
                    strategy_page.recipients(),
                    rule=strategy_page.rule(),
                    reason=strategy_page.reason_edit.text(),
                )
        except (SQLAlchemyError, SmbcrmError) as exc:
            self.summary.setText(unexpected_error_text(exc) + " " + tr("Go back to change it."))
            self.completeChanged.emit()
            return
        self._wizard.plan = plan
        self.summary.setText(
            tr("{name}'s {c}, {p}, {f} and {k} move as below; then {name} is deactivated.").format(
                name=plan.leaver_name,
                c=counts.customers(plan.customers),
                p=counts.prospects(plan.prospects),
                f=counts.open_follow_ups(len(plan.follow_ups)),
                k=counts.open_cases(len(plan.cases)),
            )
        )
        self.table.setRowCount(len(plan.shares))
        for row, share in enumerate(plan.shares):
            cells = [
                share.full_name,
                f"{share.customers:,}",
                f"{share.prospects:,}",
                f"{share.follow_ups:,}",
                f"{share.cases:,}",
                f"{share.load_before:,} → {share.load_after:,}",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self._wizard.plan is not None


class ApplyPage(QWizardPage):
    def __init__(self, wizard: HandoverWizard) -> None:
        super().__init__(wizard)
        self.setObjectName("applyPage")
        self._wizard = wizard
        self.setTitle(tr("Handing over"))
        self.message = QLabel(tr("Starting…"), self)
        self.message.setObjectName("applyMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("applyProgress")
        self.bar.setRange(0, 0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.message, 1)
        self._done = False

    def initializePage(self) -> None:
        self._done = False
        self._wizard.start_apply()

    def finish(self, text: str) -> None:
        self._done = True
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.message.setText(text)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self._done


class HandoverWizard(QWizard):
    """Hand a leaver's book over and deactivate them; emits ``handed_over(leaver id)``."""

    handed_over = Signal(int)

    def __init__(
        self, ctx: AppContext, leaver_id: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("handoverWizard")
        self.setWindowTitle(tr("Hand over and deactivate"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setMinimumSize(640, 520)
        self.ctx = ctx
        self.plan: HandoverPlan | None = None
        self.result_: HandoverResult | None = None
        self.worker: Worker | None = None
        self.loads: dict[int, Workload] = {}
        # Active colleagues who may be given customers (no bookkeepers).
        self.recipient_ids: set[int] = set()
        self.leaver_page = LeaverPage(self)
        self.strategy_page = StrategyPage(self)
        self.preview_page = PreviewPage(self)
        self.apply_page = ApplyPage(self)
        for page in (self.leaver_page, self.strategy_page, self.preview_page, self.apply_page):
            self.addPage(page)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self._load_staff(leaver_id)

    def _load_staff(self, leaver_id: int | None) -> None:
        try:
            with self.ctx.read_session() as session:
                self.loads = ownership.workloads(session)
                self.recipient_ids = {
                    u.id for u in auth.active_staff(session) if ownership.may_own_customers(u)
                }
        except SQLAlchemyError as exc:
            self.loads = {}
            self.recipient_ids = set()
            self.show_error(unexpected_error_text(exc))
        self.leaver_page.fill(list(self.loads.values()), leaver_id)

    def show_error(self, text: str) -> None:
        self.leaver_page.book_label.setText(text)

    def start_apply(self) -> None:
        plan = self.plan
        if plan is None:
            self.apply_page.finish(tr("Nothing to apply: go back to the preview."))
            return
        db, user_id = self.ctx.db, self.ctx.user_id

        def job(progress: Progress) -> HandoverResult:
            with db.session(user_id=user_id) as session:
                actor = session.get_one(User, user_id)
                return ownership.deactivate_staff(
                    session, actor, plan.leaver_id, handover=plan, progress=progress
                )

        worker = Worker(job, self)
        worker.progressed.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(lambda: self.apply_page.finish(tr("Cancelled; nothing changed.")))
        self.worker = worker
        worker.start()

    def _on_progress(self, done: int, total: int, message: str) -> None:
        if total:
            self.apply_page.bar.setRange(0, total)
            self.apply_page.bar.setValue(done)
        self.apply_page.message.setText(message)

    def _on_finished(self, result: object) -> None:
        assert isinstance(result, HandoverResult)
        self.result_ = result
        lines = [
            tr("{name} is deactivated. Handed over {c}, {p}, {f} and {k}:").format(
                name=result.leaver,
                c=counts.customers(result.customers),
                p=counts.prospects(result.prospects),
                f=counts.open_follow_ups(result.follow_ups),
                k=counts.open_cases(result.cases),
            ),
            *(f"• {line}" for line in result.summary_lines()),
        ]
        self.apply_page.finish("\n".join(lines))
        if self.plan is not None:
            self.handed_over.emit(self.plan.leaver_id)

    def _on_failed(self, message: str) -> None:
        self.apply_page.finish(
            tr("Nothing was changed: {0} Close this and start the handover again.").format(message)
        )

    def reject(self) -> None:
        if self.worker is not None and self.worker.is_running():
            return  # one transaction: let it finish or fail as a whole
        super().reject()
