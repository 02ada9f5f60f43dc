"""What the outbox carries: the one list of side-effect kinds that producers write and the
drains read, so a feature that queues a message never imports the feature that sends it."""

from __future__ import annotations

# Slack (bot/slack/delivery): posts people read, retried until they land.
SLACK_EVENT = "slack.event"  # a timeline event into the incident's thread
SLACK_DM = "slack.dm"  # a role assignment DM
SLACK_MAINTENANCE = "slack.maintenance"  # a maintenance window's post in #incidents
SLACK_REMINDER = "slack.reminder"  # the DM before a promise
SLACK_ESCALATION = "slack.escalation"  # the thread mention once a promise passed
SLACK_RESPOND = "slack.respond"  # the answer to a button click (response_url)
SLACK_COMPONENT = "slack.component"  # a public level change not told in an incident thread
# The incident's root message in #incidents, edited to show the incident as it is when sent.
# Queued (by the Slack drain) with each thread post that changes what the root shows,
# under the incident's ordering key, so it goes after the posts before it.
SLACK_ROOT = "slack.root"
# A top-level post in #incidents whose text was rendered when queued (a provider's change).
SLACK_CHANNEL_TEXT = "slack.channel_text"
SLACK_FILE = "slack.file"  # a file (the postmortem) into the incident's thread
# Monitoring (bot/monitoring): a component episode's triage message in #incidents, posted
# once and edited in place (ordered per episode), and the drift nags.
SLACK_TRIAGE = "slack.triage"
SLACK_DRIFT = "slack.drift"
SLACK_KINDS = (
    SLACK_EVENT,
    SLACK_DM,
    SLACK_MAINTENANCE,
    SLACK_REMINDER,
    SLACK_ESCALATION,
    SLACK_RESPOND,
    SLACK_COMPONENT,
    SLACK_ROOT,
    SLACK_CHANNEL_TEXT,
    SLACK_FILE,
    SLACK_TRIAGE,
    SLACK_DRIFT,
)

# Subscribers (bot/subscribers): one fan-out row per public notice, expanded by the worker
# into one delivery row per subscriber.
FANOUT = "notify.fanout"
MAIL_CONFIRM = "mail.confirm"
MAIL_UPDATE = "mail.update"
WEBHOOK_CONFIRM = "webhook.confirm"
WEBHOOK_UPDATE = "webhook.update"
MAIL_KINDS = (MAIL_CONFIRM, MAIL_UPDATE)
WEBHOOK_KINDS = (WEBHOOK_CONFIRM, WEBHOOK_UPDATE)
UPDATE_KINDS = (MAIL_UPDATE, WEBHOOK_UPDATE)
