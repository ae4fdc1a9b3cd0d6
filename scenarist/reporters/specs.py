"""Reporter specs: the `reporters:` of a scenario, a union discriminated on `type`.

    - name: Data drift warning
      type: mail
      when: "stepOutcome_MES_Warn == 'WARNING'"      # or  on: [WARNING, FAILED]
      to: [me@example.com]
      subject: 'scenario "{{ scenarioName }}" issued a warning'
      body_template: drift_warning.txt.j2            # or inline `body:`
      attach: [scenario_log, evaluation_report]
      repeat: once_per_state      # alert hygiene (scenarist.reporters.hygiene): not every run
      escalate_after: 3           # 3 WARNING runs in a row → alerted as ERROR
      notify_recovery: true       # a "back to OK" message
    - {name: Slack, type: webhook, preset: slack, url: "${SLACK_WEBHOOK_URL}", on: [FAILED]}

Gating (`when:` / `on:`, see `scenarist.reporters.gate`): default, a reporter sends when the
scenario outcome is anything but SUCCESS. Templates (inline or files) are Jinja rendered in a
sandbox with StrictUndefined; `scenarist validate` renders each against a sample run.
Secrets never appear here: SMTP credentials come from `${ENV}` in the mail connection or a
Prefect Secret block (`password_block`), a webhook URL from `${ENV}` or `url_block`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scenarist.checks.outcome import StepOutcome

#: attachments that are not file paths
SPECIAL_ATTACHMENTS = ("scenario_log", "evaluation_report", "check_results")


class ReporterOptions(BaseModel):
    """What every reporter type accepts: its name, its gate and its delivery policy."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1, description="Reporter name, unique in its scenario.")
    when: str | None = Field(
        None,
        description="Send when this Jinja expression over the run's variables is true, e.g. "
        "\"stepOutcome_MES_Warn == 'WARNING'\".",
    )
    on: list[StepOutcome] | None = Field(
        None,
        description="Instead of `when`: send when the scenario outcome is one of these, e.g. "
        "[WARNING, FAILED]. Default (neither set): any outcome but SUCCESS.",
    )
    max_attempts: int = Field(
        5, ge=1, le=50, description="Delivery attempts before a message is marked failed."
    )
    retry_delay_seconds: float = Field(
        30, ge=0, description="Wait before the 2nd attempt; doubles after each failed attempt."
    )
    timeout_seconds: float = Field(30, gt=0, description="Timeout of one delivery attempt.")
    repeat: Literal["every_run", "once_per_state"] = Field(
        "every_run",
        description="every_run: a message on every run the gate lets through; once_per_state: "
        "only when a check (× segment) enters a new WARNING/ERROR state, not again while it "
        "stays there (see scenarist.reporters.hygiene).",
    )
    escalate_after: int | None = Field(
        None, ge=1,
        description="After this many consecutive WARNING runs of a check, alert on it as ERROR.",
    )
    notify_recovery: bool = Field(
        False, description="Send a \"back to OK\" message when a check alerted on returns to OK."
    )
    snooze_until: datetime | None = Field(
        None,
        description="Send nothing before this date/time (UTC unless it has a zone); check "
        "states are still tracked meanwhile.",
    )
    shadow: bool = Field(
        False, description="Render and record the message it would send (outbox status "
        "`shadow`) but never deliver it.")

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        # YAML 1.1 reads an unquoted `on:` key as the boolean true
        if isinstance(data, dict) and True in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    @model_validator(mode="after")
    def _one_gate(self) -> ReporterOptions:
        if self.when is not None and self.on is not None:
            raise ValueError("use either `when` (an expression) or `on` (outcomes), not both")
        if self.on is not None and not self.on:
            raise ValueError("`on` needs at least one outcome: SUCCESS, WARNING, FAILED, ABORTED")
        if self.on is not None and set(self.on) == {StepOutcome.SUCCESS}:
            hygiene = [f"`{name}`" for name, used in (
                ("repeat: once_per_state", self.repeat == "once_per_state"),
                ("escalate_after", self.escalate_after is not None),
                ("notify_recovery", self.notify_recovery)) if used]
            if hygiene:
                raise ValueError(f"{' and '.join(hygiene)} track WARNING/ERROR alerts, but this "
                                 "reporter is gated only on SUCCESS (`on: [SUCCESS]`), so it never "
                                 "alerts; add WARNING/FAILED to `on` or remove "
                                 f"{' and '.join(hygiene)}")
        return self

    @property
    def snooze_until_utc(self) -> datetime | None:
        """`snooze_until` with a zone (a naive value is UTC)."""
        until = self.snooze_until
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=timezone.utc)
        return until


class MailReporterSpec(ReporterOptions):
    """A mail through an SMTP connection (aiosmtplib); plain text with optional HTML."""

    type: Literal["mail"] = Field(description="Reporter type.")
    connection: str = Field("mail", description="Name of the mail connection (SMTP server).")
    sender: str | None = Field(None, description="From address; default: the connection's.")
    to: list[str] = Field(default_factory=list, description="Recipients.")
    cc: list[str] = Field(default_factory=list, description="Copy recipients.")
    bcc: list[str] = Field(default_factory=list, description="Blind copy recipients.")
    subject: str = Field(
        "[scenarist] {{ scenarioName }}: {{ outcome }}", description="Subject, a Jinja template."
    )
    body: str | None = Field(None, description="Plain-text body, an inline Jinja template.")
    body_template: str | None = Field(
        None,
        description="Plain-text body from a template file, looked up in the project folder, "
        "its templates/ folder, then scenarist's built-in templates. Default (no body): "
        "mail_body.txt.j2, the non-OK checks with values and bounds.",
    )
    html: str | None = Field(None, description="HTML alternative, an inline Jinja template.")
    html_template: str | None = Field(None, description="HTML alternative from a template file.")
    attach: list[str] = Field(
        default_factory=list,
        description="scenario_log (the run log as scenario.log), evaluation_report (the HTML "
        "report when the run made one), check_results (CSV), or a file path relative to the "
        'project folder (may use "{{ var }}").',
    )
    password_block: str | None = Field(
        None,
        description="Name of a Prefect Secret block holding the SMTP password (instead of the "
        "connection's `password: ${ENV}`).",
    )

    @model_validator(mode="after")
    def _content(self) -> MailReporterSpec:
        if not (self.to or self.cc or self.bcc):
            raise ValueError("a mail reporter needs at least one recipient in `to`, `cc` or `bcc`")
        if self.body is not None and self.body_template is not None:
            raise ValueError("use either `body` (inline) or `body_template` (a file), not both")
        if self.html is not None and self.html_template is not None:
            raise ValueError("use either `html` (inline) or `html_template` (a file), not both")
        return self


class WebhookReporterSpec(ReporterOptions):
    """A JSON POST (httpx) rendered from a Jinja template; presets for Slack and Teams."""

    type: Literal["webhook"] = Field(description="Reporter type.")
    url: str | None = Field(
        None, description="Webhook URL; write ${ENV_VAR} when the URL is a secret (Slack, Teams)."
    )
    url_block: str | None = Field(
        None, description="Instead of `url`: name of a Prefect Secret block holding the URL."
    )
    preset: Literal["generic", "slack", "teams"] = Field(
        "generic",
        description="Default payload: generic (scenario, outcome, URL, checks), slack "
        "(incoming webhook text), teams (Adaptive Card message).",
    )
    payload: str | None = Field(
        None, description="JSON payload, an inline Jinja template (use `| tojson` for values)."
    )
    payload_template: str | None = Field(None, description="JSON payload from a template file.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers; values may use ${ENV_VAR}."
    )

    @model_validator(mode="after")
    def _target(self) -> WebhookReporterSpec:
        if (self.url is None) == (self.url_block is None):
            raise ValueError("a webhook reporter needs exactly one of `url` and `url_block`")
        if self.payload is not None and self.payload_template is not None:
            raise ValueError("use either `payload` (inline) or `payload_template`, not both")
        return self


ReporterSpec = Annotated[MailReporterSpec | WebhookReporterSpec, Field(discriminator="type")]
