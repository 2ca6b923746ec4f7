"""Report panels for pull requests, Copilot code review and cloud agent users, and repositories.

Each scope section gets four panels, read from the marts as they are:

* weekly pull requests (``fct_copilot_pull_requests_weekly``): created, reviewed, merged,
  Copilot-authored created and merged, Copilot-reviewed reviewed;
* weekly time to merge (same mart): the approximate weekly medians (merge-weighted means of
  GitHub's daily medians), labelled approximate; a week without merges has no point;
* code review and cloud agent users (``fct_copilot_agent_users_daily``): GitHub's daily counts,
  a day GitHub left null is a gap (unknown), never a zero;
* top repositories by agent pull requests (``fct_copilot_repository_activity_daily``) over the
  scope's last 28 days of data.

A panel whose mart is missing or has no row for the scope shows a note saying so.
"""

from __future__ import annotations

from copilot_warehouse.serve.report import charts
from copilot_warehouse.serve.report.data import WINDOW_DAYS, MartReader, Rows, ScopeKey, recent_days_sql
from copilot_warehouse.serve.report.panels import Column, Panel, line_panel

PULL_REQUESTS_WEEKLY = "fct_copilot_pull_requests_weekly"
AGENT_USERS_DAILY = "fct_copilot_agent_users_daily"
REPOSITORY_ACTIVITY_DAILY = "fct_copilot_repository_activity_daily"
TOP_REPOSITORIES = 15


def pull_requests_weekly(reader: MartReader, scope: ScopeKey) -> Rows:
    """Weekly pull-request rows of one scope, oldest week first.

    Returns:
        Rows with ``week_start`` (ISO date), the pull-request counters (ints) and the three
        ``*_approx`` medians (minutes, float or None); or a note when the mart is missing/empty.
    """
    return reader.scope_rows(
        PULL_REQUESTS_WEEKLY,
        """week_start, days_with_data, pull_requests_created, pull_requests_reviewed,
                   pull_requests_merged, pull_requests_created_by_copilot,
                   pull_requests_merged_created_by_copilot, pull_requests_reviewed_by_copilot,
                   median_minutes_to_merge_approx, median_minutes_to_merge_copilot_authored_approx,
                   median_minutes_to_merge_copilot_reviewed_approx""",
        scope,
        "week_start",
    )


def agent_users_daily(reader: MartReader, scope: ScopeKey) -> Rows:
    """Daily code review (active, passive) and cloud agent user counts of one scope, oldest first.

    Returns:
        Rows with ``day`` and GitHub's daily counts (int, or None where GitHub gave none).
    """
    return reader.scope_rows(
        AGENT_USERS_DAILY,
        """day, daily_active_copilot_code_review_users, daily_passive_copilot_code_review_users,
                   daily_active_copilot_cloud_agent_users""",
        scope,
        "day",
    )


def top_repositories(reader: MartReader, scope: ScopeKey) -> Rows:
    """Repositories of the scope over its last 28 days of data, most agent pull requests first.

    Counters are summed over the window; the applied rate is the sum over the sum.

    Returns:
        At most :data:`TOP_REPOSITORIES` rows: ``repository_name``, counters (ints),
        ``copilot_applied_suggestion_rate`` (0-1 or None), ``first_day``/``last_day`` (ISO dates).
    """
    return reader.query(
        REPOSITORY_ACTIVITY_DAILY,
        recent_days_sql(REPOSITORY_ACTIVITY_DAILY)
        + f"""
            select coalesce(max(repository_name), repo_key) as repository_name,
                   sum(pull_requests_created_by_copilot) as agent_pull_requests_created,
                   sum(pull_requests_merged_created_by_copilot) as agent_pull_requests_merged,
                   sum(pull_requests_reviewed_by_copilot) as pull_requests_reviewed_by_copilot,
                   sum(pull_requests_created) as pull_requests_created,
                   sum(copilot_suggestions) as copilot_suggestions,
                   sum(copilot_applied_suggestions) as copilot_applied_suggestions,
                   sum(copilot_applied_suggestions) / nullif(sum(copilot_suggestions), 0)
                       as copilot_applied_suggestion_rate,
                   min(day) as first_day, max(last_day) as last_day
            from recent
            group by repo_key
            order by agent_pull_requests_created desc nulls last,
                     pull_requests_reviewed_by_copilot desc nulls last, repository_name
            limit {TOP_REPOSITORIES}""",
        scope.params,
        scope=scope,
    )


def scope_panels(reader: MartReader, scope: ScopeKey) -> list[Panel]:
    """The pull-request, agent-user and repository panels of one organization or enterprise."""
    sid = scope.slug
    weekly = pull_requests_weekly(reader, scope)
    counts = Panel(
        f"chart-{sid}-pull-requests-weekly",
        "Pull requests per week",
        PULL_REQUESTS_WEEKLY,
        "Created, reviewed and merged per ISO week (Monday start); Copilot-authored: opened by the "
        "Copilot cloud agent; Copilot-reviewed: reviewed by Copilot code review",
        wide=True,
    )
    merge_time = Panel(
        f"chart-{sid}-time-to-merge-weekly",
        "Time to merge per week (approximate)",
        PULL_REQUESTS_WEEKLY,
        "Approximate weekly median minutes from creation to merge: GitHub's daily medians weighted by "
        "the day's merges (the median of the week's merges cannot be recovered from daily medians); "
        "a week without merges has no point",
    )
    line_panel(
        counts,
        weekly,
        "week_start",
        [
            ("Created", "pull_requests_created"),
            ("Reviewed", "pull_requests_reviewed"),
            ("Merged", "pull_requests_merged"),
            ("Copilot-authored", "pull_requests_created_by_copilot"),
            ("Copilot-authored merged", "pull_requests_merged_created_by_copilot"),
            ("Copilot-reviewed", "pull_requests_reviewed_by_copilot"),
        ],
        y_title="Pull requests per week",
        x_title=charts.WEEK_AXIS,
    )
    line_panel(
        merge_time,
        weekly,
        "week_start",
        [
            ("All merged (approx.)", "median_minutes_to_merge_approx"),
            ("Copilot-authored (approx.)", "median_minutes_to_merge_copilot_authored_approx"),
            ("Copilot-reviewed (approx.)", "median_minutes_to_merge_copilot_reviewed_approx"),
        ],
        y_title="Minutes to merge (approximate median)",
        x_title=charts.WEEK_AXIS,
    )

    users = agent_users_daily(reader, scope)
    agents = Panel(
        f"chart-{sid}-agent-users",
        "Code review and cloud agent users",
        AGENT_USERS_DAILY,
        "Daily users as GitHub counts them: Copilot code review active (requested a review) and passive "
        "(received one), Copilot cloud agent; a gap is a day GitHub gave no count (unknown, not zero)",
    )
    line_panel(
        agents,
        users,
        "day",
        [
            ("Code review, active", "daily_active_copilot_code_review_users"),
            ("Code review, passive", "daily_passive_copilot_code_review_users"),
            ("Cloud agent", "daily_active_copilot_cloud_agent_users"),
        ],
        y_title="Users per day",
    )

    repos = top_repositories(reader, scope)
    window = f": {repos.rows[0]['last_day']} and the {WINDOW_DAYS - 1} days before" if repos else ""
    repositories = Panel(
        f"table-{sid}-repositories",
        "Repositories",
        REPOSITORY_ACTIVITY_DAILY,
        "Pull requests the Copilot cloud agent opened and merged, pull requests Copilot code review "
        f"reviewed and its suggestions, last {WINDOW_DAYS} days of data{window} "
        f"(top {TOP_REPOSITORIES} by agent pull requests)",
        columns=[
            Column("repository_name", "Repository"),
            Column("agent_pull_requests_created", "Agent PRs opened", "int"),
            Column("agent_pull_requests_merged", "Agent PRs merged", "int"),
            Column("pull_requests_reviewed_by_copilot", "PRs reviewed by Copilot", "int"),
            Column("pull_requests_created", "All PRs opened", "int"),
            Column("copilot_suggestions", "Copilot review suggestions", "int"),
            Column("copilot_applied_suggestion_rate", "Suggestions applied", "pct"),
        ],
        rows=repos.rows,
        note=repos.note,
        wide=True,
    )
    return [counts, merge_time, agents, repositories]
