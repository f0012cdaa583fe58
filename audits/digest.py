"""The email digest HR admins get after each scheduled audit.

What it says is measured against the previous *scheduled* audit (the one the last digest
was about), so that a weekly reader sees the week's changes even when someone pressed
"Run now" in between: the organisation alignment score and its change in percentage
points, the findings that appeared since and still hold (by pitfall, most severe first,
each with its subject, message and a link), the findings that closed themselves since,
and how many are still open by severity. The first digest, with nothing to compare with,
lists every open finding.

One message per active HR admin with an address, in plain text and HTML (no styles:
mail clients and the app's content security policy agree on that), rendered from
``templates/audits/email/``; links start at THROUGHLINE_SITE_URL. The run records when
its digest went out, so a task delivered twice does not send it twice. A scheduled run
that failed sends a short notice instead and records nothing, so that its digest still
goes out when HR runs it again and it succeeds.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from appraisals.notifications import site_url
from audits.models import ACTIVE_STATUSES, AuditRun, Finding, FindingStatus, RunState, RunTrigger, Severity
from audits.rules import all_rules
from people.models import Employee

SHOWN_PER_PITFALL = 10  # findings listed per pitfall; the rest are counted, with a link to the list
CLOSED_SHOWN = 20
SEVERITY_ORDER = [Severity.HIGH, Severity.MEDIUM, Severity.LOW]
OTHER_PITFALL = "Other checks"


@dataclass
class DigestFinding:
    severity: str
    subject: str
    department: str
    message: str
    title: str  # the rule's title
    url: str


@dataclass
class PitfallSection:
    pitfall: str
    findings: list[DigestFinding] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.findings)


@dataclass
class Digest:
    run: AuditRun
    baseline: AuditRun | None  # the previous scheduled run it is compared with
    score: Decimal | None
    change: Decimal | None
    new_sections: list[PitfallSection]
    new_total: int
    closed: list[DigestFinding]
    closed_total: int
    open_counts: dict[str, int]
    open_total: int
    links: dict[str, str]

    @property
    def score_text(self) -> str:
        return "not measured (no current goal period)" if self.score is None else f"{points(self.score)} %"

    @property
    def baseline_score_text(self) -> str:
        if self.baseline is None or self.baseline.alignment_score is None:
            return ""
        return f"{points(self.baseline.alignment_score)} %"

    @property
    def closed_more(self) -> int:
        return self.closed_total - len(self.closed)

    @property
    def change_text(self) -> str:
        if self.change is None:
            return ""
        if self.change == 0:
            return "no change"
        return f"{'up' if self.change > 0 else 'down'} {points(abs(self.change))} points"


def points(value: Decimal) -> str:
    """72.5, 70, 3.3: one decimal at most."""
    number = Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{number:.0f}" if number == number.to_integral_value() else f"{number}"


def recipients() -> list[Employee]:
    """Every active HR admin whose account is active and has an email address (one query)."""
    return list(
        Employee.objects.filter(is_active=True, is_hr_admin=True, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("full_name", "pk")
    )


def baseline_for(run: AuditRun) -> AuditRun | None:
    """The scheduled run that succeeded before this one: what the last digest reported."""
    if run.finished_at is None:
        return None
    return (
        AuditRun.objects.filter(trigger=RunTrigger.SCHEDULED, state=RunState.SUCCEEDED, finished_at__lt=run.finished_at)
        .exclude(pk=run.pk)
        .order_by("-finished_at", "-pk")
        .first()
    )


def _rule_names() -> dict[str, tuple[str, str]]:
    return {rule.key: (rule.title, rule.pitfall) for rule in all_rules()}


def _item(finding: Finding, names: dict[str, tuple[str, str]], base: str) -> DigestFinding:
    title = names.get(finding.rule, (finding.rule.replace("_", " ").capitalize(), OTHER_PITFALL))[0]
    return DigestFinding(
        severity=finding.get_severity_display(),
        subject=finding.subject_label,
        department=finding.department.name if finding.department_id else "",
        message=finding.message,
        title=title,
        url=base + reverse("audits:finding_detail", args=[finding.pk]),
    )


def _severity_rank(finding: Finding) -> int:
    try:
        return SEVERITY_ORDER.index(Severity(finding.severity))
    except ValueError:
        return len(SEVERITY_ORDER)


def build(run: AuditRun) -> Digest:
    """What the digest says about this (succeeded) run; a handful of queries however many findings."""
    base = site_url()
    baseline = baseline_for(run)
    since: datetime.datetime | None = baseline.finished_at if baseline else None
    until = run.finished_at or timezone.now()
    names = _rule_names()
    # Pitfalls in run order (the order of their first rule), as the dashboard shows them.
    pitfall_order: dict[str, int] = {}
    for rule in all_rules():
        pitfall_order.setdefault(rule.pitfall, len(pitfall_order))

    def pitfall_of(finding: Finding) -> str:
        return names.get(finding.rule, ("", OTHER_PITFALL))[1]

    new = Finding.objects.filter(status__in=ACTIVE_STATUSES, first_seen_at__lte=until).select_related("department")
    if since is not None:
        new = new.filter(first_seen_at__gt=since)
    new_findings = sorted(
        new,
        key=lambda f: (
            pitfall_order.get(pitfall_of(f), len(pitfall_order)),
            _severity_rank(f),
            f.subject_label.lower(),
            f.pk,
        ),
    )
    sections: OrderedDict[str, PitfallSection] = OrderedDict()
    for finding in new_findings:
        section = sections.setdefault(pitfall_of(finding), PitfallSection(pitfall=pitfall_of(finding)))
        section.total += 1
        if len(section.findings) < SHOWN_PER_PITFALL:
            section.findings.append(_item(finding, names, base))

    closed = Finding.objects.filter(status=FindingStatus.CLOSED, closed_at__lte=until).select_related("department")
    if since is not None:
        closed = closed.filter(closed_at__gt=since)
    closed_total = closed.count()
    closed_items = [_item(f, names, base) for f in closed.order_by("rule", "subject_label", "pk")[:CLOSED_SHOWN]]

    counts = Finding.objects.filter(status__in=ACTIVE_STATUSES).aggregate(
        **{str(s): Count("pk", filter=Q(severity=s)) for s in SEVERITY_ORDER}, total=Count("pk")
    )
    change = None
    if baseline is not None and baseline.alignment_score is not None and run.alignment_score is not None:
        change = run.alignment_score - baseline.alignment_score
    return Digest(
        run=run,
        baseline=baseline,
        score=run.alignment_score,
        change=change,
        new_sections=list(sections.values()),
        new_total=len(new_findings),
        closed=closed_items,
        closed_total=closed_total,
        open_counts={s.label: counts[str(s)] for s in SEVERITY_ORDER},
        open_total=counts["total"],
        links={
            "dashboard": base + reverse("audits:dashboard"),
            "findings": base + reverse("audits:finding_list"),
            "run": base + reverse("audits:run_detail", args=[run.pk]),
        },
    )


def _messages(template: str, context: dict[str, object], people: list[Employee]) -> list[EmailMultiAlternatives]:
    messages = []
    for person in people:
        ctx = {**context, "person": person}
        subject = " ".join(render_to_string(f"audits/email/{template}_subject.txt", ctx).split())
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"audits/email/{template}.txt", ctx),
            to=[person.user.email],
        )
        message.attach_alternative(render_to_string(f"audits/email/{template}.html", ctx), "text/html")
        messages.append(message)
    return messages


def send_digest(run_id: int) -> int:
    """Email the run's digest to HR admins, once. Returns how many emails went out (0 when it had gone
    already, or the run has not finished). A failed run gets a short notice instead, not recorded."""
    with transaction.atomic():
        run = AuditRun.objects.select_for_update().get(pk=run_id)
        if run.digest_sent_at is not None or run.state not in (RunState.SUCCEEDED, RunState.FAILED):
            return 0
        people = recipients()
        if run.state == RunState.FAILED:
            context: dict[str, object] = {
                "run": run,
                "run_url": site_url() + reverse("audits:run_detail", args=[run.pk]),
            }
            messages = _messages("run_failed", context, people)
        else:
            messages = _messages("digest", {"digest": build(run)}, people)
        if messages:
            get_connection().send_messages(messages)
        if run.state == RunState.SUCCEEDED:
            run.digest_sent_at = timezone.now()
            run.save(update_fields=["digest_sent_at"])
    return len(messages)
