"""Extract: ask GitHub. The reports API client, which reports a scope is offered, the legacy API."""
