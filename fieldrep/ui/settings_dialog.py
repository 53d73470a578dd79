"""Settings: language, server and sign-in, and the territory's visit cadence.

Cadence numbers are territory settings (synced rows, checked by
:mod:`fieldrep.storage.services.settings_service`); a refused value is shown in
red under its field in the user's language, and nothing is saved until every
field is right. Sign-in tokens go to the OS keyring only (fieldrep.sync.api).
The language switches the open window at once (LanguageChange).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import _, current_language
from fieldrep.ui import uisettings as keys
from fieldrep.ui.forms import ERROR_STYLE, FieldError
from fieldrep.ui.language import LANGUAGE_NAMES, apply_language
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.services import AppServices
from fieldrep.ui.sync_bridge import SignInOutcome

if TYPE_CHECKING:
    from fieldrep.storage.errors import ValidationError

log = logging.getLogger("fieldrep.ui")


class SettingsDialog(QDialog):
    """File > Settings."""

    signed_in_changed = Signal()
    saved = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from fieldrep.storage.settings import (
            C_INTERVAL_DAYS,
            VISITS_PER_MONTH_A,
            VISITS_PER_MONTH_B,
        )

        self.setObjectName("settings_dialog")
        self.services = services
        self.sync_outcome: SignInOutcome | None = None  # what the message under sign-in says
        self.cadence_settings = (VISITS_PER_MONTH_A, VISITS_PER_MONTH_B, C_INTERVAL_DAYS)
        self.loaded_values: dict[str, Any] = {}

        # Language
        self.language_group = QGroupBox()
        self.language = QComboBox()
        self.language.setObjectName("settings_language")
        for code, name in LANGUAGE_NAMES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(current_language())))
        self.language_label = QLabel()
        language_form = QFormLayout(self.language_group)
        language_form.addRow(self.language_label, self.language)

        # Server and sign-in
        self.sync_group = QGroupBox()
        self.server = QLineEdit(services.settings.text(keys.SERVER_URL))
        self.server.setObjectName("settings_server")
        self.server.setPlaceholderText("https://")
        self.username = QLineEdit(services.settings.text(keys.USERNAME))
        self.username.setObjectName("settings_username")
        self.password = QLineEdit()
        self.password.setObjectName("settings_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.field_errors: dict[str, FieldError] = {
            name: FieldError(name) for name in ("server_url", "username", "password")
        }
        self.sign_in_button = QPushButton()
        self.sign_in_button.setObjectName("settings_sign_in")
        self.sign_out_button = QPushButton()
        self.sign_out_button.setObjectName("settings_sign_out")
        self.sign_in_button.clicked.connect(self.sign_in)
        self.sign_out_button.clicked.connect(self.sign_out)
        self.sync_message = QLabel()
        self.sync_message.setObjectName("settings_sync_message")
        self.sync_message.setWordWrap(True)
        # Records made before the first sign-in need a territory; an account with several
        # picks one here (by name), shown only when the server's answer asks for it.
        self.territory = QComboBox()
        self.territory.setObjectName("settings_territory")
        self.territory_label = QLabel()
        self.server.textEdited.connect(lambda _text: self._offer_territories(()))
        self.username.textEdited.connect(lambda _text: self._offer_territories(()))
        self.server_label, self.username_label, self.password_label = QLabel(), QLabel(), QLabel()
        self.sync_form = sync_form = QFormLayout(self.sync_group)
        for label, field, name in (
            (self.server_label, self.server, "server_url"),
            (self.username_label, self.username, "username"),
            (self.password_label, self.password, "password"),
        ):
            sync_form.addRow(label, self._with_error(field, self.field_errors[name]))
        sync_form.addRow(self.territory_label, self.territory)
        sync_form.setRowVisible(self.territory, False)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(self.sign_in_button)
        buttons_row.addWidget(self.sign_out_button)
        buttons_row.addStretch(1)
        sync_form.addRow("", buttons_row)
        self.auto_sync = QCheckBox()
        self.auto_sync.setObjectName("settings_auto_sync")
        self.auto_sync.setChecked(services.settings.auto_sync)
        sync_form.addRow("", self.auto_sync)
        sync_form.addRow("", self.sync_message)

        # Cadence
        self.cadence_group = QGroupBox()
        cadence_form = QFormLayout(self.cadence_group)
        self.cadence_inputs: dict[str, QLineEdit] = {}
        self.cadence_labels: dict[str, QLabel] = {}
        for setting in self.cadence_settings:
            line = QLineEdit()
            line.setObjectName(f"setting_{setting.key}")
            line.setMaximumWidth(120)
            line.setEnabled(False)
            error = FieldError(setting.key)
            self.field_errors[setting.key] = error
            self.cadence_inputs[setting.key] = line
            label = QLabel()
            self.cadence_labels[setting.key] = label
            cadence_form.addRow(label, self._with_error(line, error))
        self.cadence_note = QLabel()
        self.cadence_note.setWordWrap(True)
        self.cadence_note.setStyleSheet("color: palette(mid);")
        cadence_form.addRow(self.cadence_note)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        for group in (self.language_group, self.sync_group, self.cadence_group):
            layout.addWidget(group)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        self.retranslate()
        self._load_cadence()

    @staticmethod
    def _with_error(field: QWidget, error: FieldError) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
        column.addWidget(error)
        return box

    # -- language

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(_("Settings"))
        self.language_group.setTitle(_("Language"))
        self.language_label.setText(_("Language of the workbench"))
        self.sync_group.setTitle(_("Server and sign-in"))
        self.server_label.setText(_("Server address"))
        self.username_label.setText(_("User name"))
        self.password_label.setText(_("Password"))
        self.territory_label.setText(_("Territory of offline records"))
        self.territory.setToolTip(
            _("The records made on this computer before the first sign-in go to this territory.")
        )
        self.sign_in_button.setText(_("Sign in"))
        self.sign_out_button.setText(_("Sign out"))
        self.auto_sync.setText(_("Sync automatically"))
        self.auto_sync.setToolTip(
            _(
                "Send and receive changes by itself: shortly after you edit, every few "
                "minutes while online, and as soon as the network is back."
            )
        )
        if self.sync_outcome is not None:
            self.sync_message.setText(self.sync_outcome.text())
        self.cadence_group.setTitle(_("Visit cadence of your territory"))
        for setting in self.cadence_settings:
            self.cadence_labels[setting.key].setText(_(setting.title))
        self.cadence_note.setText(
            _(
                "Class A and B: visits per calendar month; class C: days between visits. "
                "A change moves every due date of the territory at once and syncs to "
                "your colleagues."
            )
        )

    # -- cadence

    def _load_cadence(self) -> None:
        from fieldrep.storage.screens.settings import load_territory_settings

        store = self.services.store
        self.services.workers.run_db(
            self, lambda: load_territory_settings(store), self._show_cadence
        )

    def _show_cadence(self, values: dict[str, Any]) -> None:
        self.loaded_values = values
        for setting in self.cadence_settings:
            line = self.cadence_inputs[setting.key]
            line.setText(str(values[setting.key]))
            line.setEnabled(True)

    def check_cadence(self) -> dict[str, Any]:
        """The changed cadence values, checked; shows every problem under its field."""
        from fieldrep.storage.errors import ValidationError
        from fieldrep.storage.services.settings_service import check_value

        changed: dict[str, Any] = {}
        problems: list[ValidationError] = []
        for setting in self.cadence_settings:
            error_label = self.field_errors[setting.key]
            error_label.show_error(None)
            text = self.cadence_inputs[setting.key].text()
            if not self.loaded_values:
                continue
            try:
                value = check_value(setting, text)
            except ValidationError as error:
                self._show_problems(error)
                problems.append(error)
                continue
            if value != self.loaded_values.get(setting.key):
                changed[setting.key] = value
        if problems:
            raise problems[0]
        return changed

    def _show_problems(self, error: ValidationError) -> None:
        for problem in error.problems:
            label = self.field_errors.get(problem.field)
            if label is not None:
                label.show_error(problem.message)  # worded again after a switch

    # -- save

    def save(self) -> None:
        """OK: check, write the cadence on the worker, switch language, close."""
        from fieldrep.storage.errors import ValidationError
        from fieldrep.storage.services.settings_service import set_setting
        from fieldrep.storage.settings import SETTINGS_BY_KEY

        try:
            changed = self.check_cadence()
        except ValidationError:
            return
        store = self.services.store

        def write() -> None:
            for key, value in changed.items():
                setting: Any = SETTINGS_BY_KEY[key]
                set_setting(store, setting, value)

        def failed(error: BaseException) -> None:
            if isinstance(error, ValidationError):
                self._show_problems(error)
            else:
                self.services.workers.show_failure(self, error)

        self.buttons.setEnabled(False)
        self.services.workers.run_db(self, write, lambda _none: self._finish_save(), failed)

    def _finish_save(self) -> None:
        settings = self.services.settings
        settings.set_text(keys.SERVER_URL, self.server.text().strip())
        settings.set_text(keys.USERNAME, self.username.text().strip())
        language = str(self.language.currentData())
        settings.language = language
        settings.auto_sync = self.auto_sync.isChecked()
        settings.sync()
        emit(self.saved)
        self.accept()
        if language != current_language():
            app = QApplication.instance()
            if isinstance(app, QApplication):
                apply_language(app, language)

    def done(self, result: int) -> None:
        self.buttons.setEnabled(True)
        super().done(result)

    # -- sign in and out

    def sign_in(self) -> None:
        from fieldrep.ui.sync_bridge import sign_in

        for name in ("server_url", "username", "password"):
            self.field_errors[name].show_error(None)
        db_path = self.services.db_path
        server, user, password = self.server.text(), self.username.text(), self.password.text()
        territory = self.chosen_territory()
        self._show_sync_message(SignInOutcome(True, "", describe=lambda: _("Signing in…")))
        self.sign_in_button.setEnabled(False)
        self.services.workers.run_io(
            self, lambda: sign_in(db_path, server, user, password, territory), self._signed_in
        )

    def chosen_territory(self) -> str | None:
        """The territory picked for the offline records (None while no choice is asked)."""
        if self.territory.count() == 0:
            return None
        data = self.territory.currentData()
        return str(data) if data else None

    def _offer_territories(self, choices: tuple[tuple[str, str], ...]) -> None:
        """Show the territory picker with these (id, name) choices; hide it without any."""
        self.territory.clear()
        for territory_id, name in choices:
            self.territory.addItem(name, territory_id)
        self.sync_form.setRowVisible(self.territory, bool(choices))

    def _signed_in(self, outcome: SignInOutcome) -> None:
        self.sign_in_button.setEnabled(True)
        for name, describe in outcome.problems.items():
            self.field_errors[name].show_error(describe)
        if outcome.territory_choices:
            # A question, not an error: the password stays, so choosing and clicking
            # Sign in again is all it takes.
            self._offer_territories(outcome.territory_choices)
            self._show_sync_message(outcome, error=False)
            self.territory.setFocus()
            return
        self.password.clear()
        self._show_sync_message(outcome)
        if outcome.ok:
            self._offer_territories(())
            settings = self.services.settings
            settings.set_text(keys.SERVER_URL, self.server.text().strip())
            settings.set_text(keys.USERNAME, self.username.text().strip())
            emit(self.signed_in_changed)

    def sign_out(self) -> None:
        from fieldrep.ui.sync_bridge import sign_out

        db_path = self.services.db_path
        self.services.workers.run_io(self, lambda: sign_out(db_path), self._signed_out)

    def _signed_out(self, outcome: SignInOutcome) -> None:
        self._show_sync_message(outcome)
        emit(self.signed_in_changed)

    def _show_sync_message(self, outcome: SignInOutcome, *, error: bool | None = None) -> None:
        """The outcome's sentence under the buttons (red for a failure), kept so that
        it is worded again when the language is switched."""
        self.sync_outcome = outcome
        self.sync_message.setText(outcome.text())
        failed = not outcome.ok if error is None else error
        self.sync_message.setStyleSheet(ERROR_STYLE if failed else "")


__all__ = ["SettingsDialog"]
