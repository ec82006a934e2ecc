"""Modal dialogs: confirm a destructive action, ask for a reason or a value, pick an option,
fill a form that runs a workflow call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from alefctl.tui.services import describe_error


class ConfirmModal(ModalScreen[bool]):
    """Ask before doing something that cannot be undone; answers True or False."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str, confirm_label: str = "Confirm"):
        super().__init__(classes="dialog-screen")
        self.question = question
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.confirm_label} (y)", variant="error", id="confirm")
                yield Button("Cancel (n)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class AnswerModal(ModalScreen[Any]):
    """A dialog answered by enter in a line or its confirm button, cancelled by escape (None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    confirm_label = "OK"

    def buttons(self) -> ComposeResult:
        """Confirm and cancel, side by side."""
        with Horizontal(classes="buttons"):
            yield Button(f"{self.confirm_label} (enter)", variant="warning", id="confirm")
            yield Button("Cancel (esc)", id="cancel")

    def on_input_submitted(self) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        """Answer with what was typed (each dialog says how)."""


class TextModal(AnswerModal):
    """Ask for one line of text (a reason, a NAV); None when cancelled."""

    def __init__(self, question: str, *, required: bool = True, placeholder: str = "",
                 confirm_label: str = "OK"):
        super().__init__(classes="dialog-screen")
        self.question = question
        self.required = required
        self.placeholder = placeholder
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question")
            yield Input(placeholder=self.placeholder, id="answer")
            yield Label("", id="problem", classes="problem")
            yield from self.buttons()

    def _submit(self) -> None:
        answer = self.query_one("#answer", Input).value.strip()
        if self.required and not answer:
            self.query_one("#problem", Label).update("This is required.")
            return
        self.dismiss(answer)


class ChoiceModal(ModalScreen[str | None]):
    """Pick one of a few options (Enter on the highlighted one); None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, choices: Sequence[tuple[str, str]], highlighted: int = 0):
        super().__init__(classes="dialog-screen")
        self.question = question
        self.choices = choices
        self.highlighted = highlighted

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question")
            yield OptionList(*[Option(label, id=value) for value, label in self.choices],
                             id="choices")

    def on_mount(self) -> None:
        self.query_one("#choices", OptionList).highlighted = self.highlighted

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextViewModal(ModalScreen[None]):
    """Show a block of text (help, an audit row's changes); any of escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, title: str, body: str):
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(f"[b]{self.title_text}[/b]", classes="question")
            yield Static(self.body, classes="body", markup=False)
            yield Static("[dim]esc to close[/dim]")

    def action_close(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class Field:
    """One line of a form: its name (the key of the answers), label, value and placeholder."""

    name: str
    label: str
    value: str = ""
    placeholder: str = ""


class FormModal(AnswerModal):
    """A few labelled lines; submitting runs `submit(answers)` (a workflow call) in a worker
    thread. Its refusal shows in the dialog, which stays open to correct the input; its result
    closes the dialog and is the answer. None when cancelled."""

    def __init__(self, question: str, fields: Sequence[Field],
                 submit: Callable[[dict[str, str]], Any], confirm_label: str = "Save"):
        super().__init__(classes="dialog-screen")
        self.question = question
        self.fields = fields
        self.submit = submit
        self.confirm_label = confirm_label
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(self.question, classes="question")
            for field in self.fields:
                with Horizontal(classes="field"):
                    yield Label(field.label, classes="field-label")
                    yield Input(field.value, placeholder=field.placeholder,
                                id=f"field-{field.name}")
            yield Label("", id="problem", classes="problem")
            yield from self.buttons()

    def answers(self) -> dict[str, str]:
        """The lines as typed, stripped, by field name."""
        return {field.name: self.query_one(f"#field-{field.name}", Input).value.strip()
                for field in self.fields}

    def _submit(self) -> None:
        if self.saving:  # one call at a time: enter again while it runs does nothing
            return
        self.saving = True
        self.query_one("#problem", Label).update("Saving…")
        answers = self.answers()
        app = self.app

        def deliver(callback: Callable[..., None], *values: Any) -> None:
            with suppress(RuntimeError):  # the app closed while the call was running
                app.call_from_thread(callback, *values)

        def job() -> None:
            try:
                result = self.submit(answers)
            except Exception as exc:  # shown in the dialog, never a crash
                deliver(self._refused, describe_error(exc))
                return
            deliver(self._done, result, app)

        self.run_worker(job, thread=True, group="form", exit_on_error=False)

    def _refused(self, message: str) -> None:
        self.saving = False
        if self.is_attached:
            self.query_one("#problem", Label).update(message)

    def _done(self, result: Any, app: Any) -> None:
        self.saving = False
        if self.is_attached:
            self.dismiss(result)
        else:  # closed with escape while saving: the change was made all the same
            app.notify(f"{self.confirm_label}: done (its dialog was closed meanwhile)", title="Done")
