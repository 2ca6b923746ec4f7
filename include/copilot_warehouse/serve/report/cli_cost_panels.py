"""Report panels for Copilot CLI and Copilot desktop app activity, and AI credits with their cost.

Each scope section gets seven panels, read from the marts as they are:

* Copilot CLI per week (``fct_copilot_cli_weekly``): requests, sessions and distinct CLI users
  (members of the users report, never a sum of daily counts);
* tokens per request per week (same mart): (output + prompt tokens) / requests, a ratio of the
  week's sums, for the CLI and the desktop app apart;
* Copilot desktop app per week (same mart): requests, sessions and distinct app users, kept apart
  from the CLI (GitHub may report the same activity under both on a transition day);
* AI credits per week (``fct_copilot_ai_credits_weekly``), and a table of the latest weeks'
  estimated cost at the configured price per credit (an estimate, not the invoice);
* AI credits by team (``fct_copilot_ai_credits_team_weekly``) over the last 4 ISO weeks; a member
  in two teams counts in both;
* AI credits by model (``fct_copilot_ai_credits_by_model_daily``) over the last 28 days of data:
  an allocated estimate, GitHub does not report credits per model.

A panel whose mart is missing or has no row for the scope shows a note saying so.
"""

from __future__ import annotations

from copilot_warehouse.serve.report import charts
from copilot_warehouse.serve.report.data import (
    WINDOW_DAYS,
    MartReader,
    Rows,
    ScopeKey,
    recent_days_sql,
    recent_teams_sql,
)
from copilot_warehouse.serve.report.panels import Column, Panel, line_panel

CLI_WEEKLY = "fct_copilot_cli_weekly"
AI_CREDITS_WEEKLY = "fct_copilot_ai_credits_weekly"
AI_CREDITS_TEAM_WEEKLY = "fct_copilot_ai_credits_team_weekly"
AI_CREDITS_BY_MODEL_DAILY = "fct_copilot_ai_credits_by_model_daily"
TOP_CREDIT_TEAMS = 15
TOP_CREDIT_MODELS = 12
COST_WEEKS = 8

_ESTIMATE = "an estimate from GitHub's per-user AI credits metric, not the invoice"


def cli_weekly(reader: MartReader, scope: ScopeKey) -> Rows:
    """Weekly CLI and desktop app rows of one scope, oldest week first.

    Returns:
        Rows with ``week_start`` (ISO date), CLI and app counters (ints), distinct ``cli_users``,
        ``app_users`` and ``cli_or_app_users`` (int, or None without a users report) and the
        ``*_tokens_per_request`` ratios (float, or None without requests); or a note.
    """
    return reader.scope_rows(
        CLI_WEEKLY,
        """week_start, days_with_data, cli_users, cli_sessions, cli_requests, cli_prompts,
                   cli_tokens_per_request, app_users, app_sessions, app_requests, app_prompts,
                   app_tokens_per_request, cli_or_app_users""",
        scope,
        "week_start",
    )


def credits_weekly(reader: MartReader, scope: ScopeKey) -> Rows:
    """Weekly AI credits of one scope, oldest week first.

    Returns:
        Rows with ``week_start``, ``ai_credits_used`` and ``estimated_cost_usd`` (floats, or None
        when no record of the week carries credits), ``members_with_credits`` (int) and
        ``price_per_ai_credit_usd`` (float); or a note.
    """
    return reader.scope_rows(
        AI_CREDITS_WEEKLY,
        """week_start, days_with_data, members_with_credits, ai_credits_used,
                   price_per_ai_credit_usd, estimated_cost_usd""",
        scope,
        "week_start",
    )


def credit_teams(reader: MartReader, scope: ScopeKey) -> Rows:
    """Teams of the scope by AI credits over its last four ISO weeks of data, most credits first.

    Credits and cost are summed over the weeks; member counts are the latest week's distinct
    counts (never summed over weeks).

    Returns:
        At most :data:`TOP_CREDIT_TEAMS` rows: ``team_slug``, ``team_members``,
        ``members_with_credits`` (ints), ``ai_credits_used``, ``estimated_cost_usd`` (floats),
        ``first_week``/``last_week`` (ISO dates); or a note.
    """
    return reader.query(
        AI_CREDITS_TEAM_WEEKLY,
        recent_teams_sql(
            AI_CREDITS_TEAM_WEEKLY,
            "members_with_credits",
            """sum(ai_credits_used) as ai_credits_used,
                   sum(estimated_cost_usd) as estimated_cost_usd""",
            "ai_credits_used desc nulls last, team_slug",
            TOP_CREDIT_TEAMS,
        ),
        scope.params,
        scope=scope,
    )


def credit_models(reader: MartReader, scope: ScopeKey) -> Rows:
    """AI credits allocated to models over the scope's last 28 days of data, most first.

    Returns:
        At most :data:`TOP_CREDIT_MODELS` rows: ``model``, ``allocated_ai_credits`` and
        ``estimated_cost_usd`` (floats), ``first_day``/``last_day`` (ISO dates); or a note.
    """
    return reader.query(
        AI_CREDITS_BY_MODEL_DAILY,
        recent_days_sql(AI_CREDITS_BY_MODEL_DAILY)
        + f"""
            select model,
                   sum(allocated_ai_credits) as allocated_ai_credits,
                   sum(estimated_cost_usd) as estimated_cost_usd,
                   min(day) as first_day, max(last_day) as last_day
            from recent
            group by model
            order by allocated_ai_credits desc, model
            limit {TOP_CREDIT_MODELS}""",
        scope.params,
        scope=scope,
    )


def _cli_panels(reader: MartReader, scope: ScopeKey) -> list[Panel]:
    sid = scope.slug
    weekly = cli_weekly(reader, scope)
    cli = Panel(
        f"chart-{sid}-cli-weekly",
        "Copilot CLI per week",
        CLI_WEEKLY,
        "CLI requests and sessions per ISO week (Monday start), and distinct members who used the CLI "
        "in the week (users report, dotted, right axis); a day without CLI use counts 0",
    )
    tokens = Panel(
        f"chart-{sid}-cli-tokens-per-request",
        "Tokens per request per week",
        CLI_WEEKLY,
        "(Output + prompt tokens) ÷ requests, summed over the ISO week (a ratio of sums); CLI and "
        "desktop app apart; a week without requests has no point",
    )
    app = Panel(
        f"chart-{sid}-copilot-app-weekly",
        "Copilot desktop app per week",
        CLI_WEEKLY,
        "Desktop app requests and sessions per ISO week, and distinct members who used the app (dotted, "
        "right axis); kept apart from the CLI and never added to it (GitHub may report the same "
        "activity under both)",
    )
    line_panel(cli, weekly, **_use_chart("CLI", "cli"))
    line_panel(
        tokens,
        weekly,
        "week_start",
        [("CLI", "cli_tokens_per_request"), ("Desktop app", "app_tokens_per_request")],
        y_title="Tokens per request",
        x_title=charts.WEEK_AXIS,
    )
    if weekly and not any(r["app_requests"] or r["app_users"] for r in weekly.rows):
        app.note = f"No Copilot desktop app use reported for {scope.title}."
    else:
        line_panel(app, weekly, **_use_chart("App", "app"))
    return [cli, tokens, app]


def _use_chart(name: str, prefix: str) -> dict:
    """The :func:`line_panel` arguments of the CLI's or the desktop app's weekly chart: requests
    and sessions, and users on their own axis (a few where requests are hundreds: on the same
    axis their line is flat)."""
    return {
        "x": "week_start",
        "series": [(f"{name} requests", f"{prefix}_requests"), (f"{name} sessions", f"{prefix}_sessions")],
        "secondary": [(f"{name} users", f"{prefix}_users")],
        "y_title": "Requests, sessions per week",
        "y2_title": "Users (dotted)",
        "x_title": charts.WEEK_AXIS,
    }


def _credit_panels(reader: MartReader, scope: ScopeKey) -> list[Panel]:
    sid = scope.slug
    weekly = credits_weekly(reader, scope)
    credit = Panel(
        f"chart-{sid}-ai-credits-weekly",
        "AI credits per week",
        AI_CREDITS_WEEKLY,
        "AI credits used per ISO week (Monday start), from GitHub's per-user metric (not the invoice)",
    )
    cost = Panel(
        f"table-{sid}-ai-credits-cost",
        "Estimated cost of AI credits",
        AI_CREDITS_WEEKLY,
        f"Latest {COST_WEEKS} ISO weeks, newest first: credits x the configured price per credit "
        f"({_ESTIMATE})",
        columns=[
            Column("week_start", "Week starting", "date"),
            Column("members_with_credits", "Members with credits", "int"),
            Column("ai_credits_used", "AI credits", "dec"),
            Column("price_per_ai_credit_usd", "Price per credit (USD)"),
            Column("estimated_cost_usd", "Estimated cost", "usd"),
        ],
    )
    if weekly and any(r["ai_credits_used"] is not None for r in weekly.rows):
        rows = weekly.rows
        credit.figure = charts.rows_line_chart(
            rows,
            "week_start",
            [("AI credits", "ai_credits_used")],
            y_title="AI credits per week",
            x_title=charts.WEEK_AXIS,
        )
        cost.rows = list(reversed(rows))[:COST_WEEKS]
    elif weekly:
        credit.note = cost.note = (
            f"No AI credits reported for {scope.title} (GitHub reports them from 2026-06-19)."
        )
    else:
        credit.note = cost.note = weekly.note

    teams = credit_teams(reader, scope)
    window = f": weeks of {teams.rows[0]['first_week']} to {teams.rows[0]['last_week']}" if teams else ""
    by_team = Panel(
        f"table-{sid}-ai-credits-teams",
        "AI credits by team",
        AI_CREDITS_TEAM_WEEKLY,
        f"Credits and estimated cost over the last 4 ISO weeks{window} (top {TOP_CREDIT_TEAMS}); members "
        "in the latest week; a member in two teams counts in both, so teams do not add up to the total",
        columns=[
            Column("team_slug", "Team"),
            Column("team_members", "Members", "int"),
            Column("members_with_credits", "Members with credits", "int"),
            Column("ai_credits_used", "AI credits", "dec"),
            Column("estimated_cost_usd", "Estimated cost", "usd"),
        ],
        rows=teams.rows,
        note=teams.note,
    )

    models = credit_models(reader, scope)
    by_model = Panel(
        f"chart-{sid}-ai-credits-by-model",
        "AI credits by model (allocated estimate)",
        AI_CREDITS_BY_MODEL_DAILY,
        "Allocated estimate: GitHub does not report credits per model; each member-day's credits are "
        "split by its share of prompts per model ('unattributed': credits without model prompts), "
        f"last {WINDOW_DAYS} days of data",
    )
    if models:
        rows = models.rows
        by_model.subtitle += f": {min(r['first_day'] for r in rows)} to {rows[0]['last_day']}"
        by_model.figure = charts.hbar_chart(
            [str(r["model"]) for r in rows],
            [("Allocated AI credits", [r["allocated_ai_credits"] for r in rows])],
            x_title="AI credits in the window (allocated estimate)",
        )
    else:
        by_model.note = models.note
    return [credit, cost, by_team, by_model]


def scope_panels(reader: MartReader, scope: ScopeKey) -> list[Panel]:
    """The CLI, desktop app and AI credit panels of one organization or enterprise."""
    return _cli_panels(reader, scope) + _credit_panels(reader, scope)
