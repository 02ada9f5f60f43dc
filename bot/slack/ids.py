"""Every action and callback ID Flare puts into Slack, in one place (a meta-test checks each
has a handler)."""

from __future__ import annotations

import enum


class SlackId(enum.StrEnum):
    # buttons
    DECLARE_OPEN = "declare_open"
    POST_UPDATE = "post_update"
    ADD_NOTE = "add_note"
    NOTHING_NEW = "nothing_new"
    SNOOZE = "snooze"
    RESOLVE = "resolve"
    PUBLISH_ANYWAY = "publish_anyway"
    EDIT_UPDATE = "edit_update"
    CORRECT_UPDATE = "correct_update"  # on a published update in the thread
    # monitoring: the triage message's buttons, and the drift nag's
    TRIAGE_DECLARE = "triage_declare"
    TRIAGE_MARK = "triage_mark"
    TRIAGE_DISMISS = "triage_dismiss"
    # modals (view callback IDs)
    DECLARE_MODAL = "declare_modal"
    UPDATE_MODAL = "update_modal"
    NOTE_MODAL = "note_modal"
    RESOLVE_MODAL = "resolve_modal"
    CORRECT_MODAL = "correct_modal"


BUTTONS = (
    SlackId.DECLARE_OPEN,
    SlackId.POST_UPDATE,
    SlackId.ADD_NOTE,
    SlackId.NOTHING_NEW,
    SlackId.SNOOZE,
    SlackId.RESOLVE,
    SlackId.PUBLISH_ANYWAY,
    SlackId.EDIT_UPDATE,
    SlackId.CORRECT_UPDATE,
    SlackId.TRIAGE_DECLARE,
    SlackId.TRIAGE_MARK,
    SlackId.TRIAGE_DISMISS,
)
MODALS = (
    SlackId.DECLARE_MODAL,
    SlackId.UPDATE_MODAL,
    SlackId.NOTE_MODAL,
    SlackId.RESOLVE_MODAL,
    SlackId.CORRECT_MODAL,
)
