"""Fast synthetic ``users-1-day`` landing partitions with realistic ~3 KB records.

Records follow the user-level shape of the reports API (reference §3.5-3.6): keys, counters,
chat-panel counters, ``used_*`` flags, ``ai_credits_used``, ``ai_adoption_phase`` and every
``totals_by_*`` breakdown, with optional fields present on only some records and about 40% of
records without code activity. A few hundred distinct record bodies are generated with a seeded
RNG and serialised once; each user's line is its own keys plus one of those bodies, so writing a
day of 100,000 users takes seconds, not minutes.

Files follow the landing contract: ``<root>/<scope_type>/<scope_name>/<report>/<day>/
part-NNNN.ndjson`` plus ``_manifest.json`` (parts with bytes and sha256, never URLs).
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, date, datetime
from pathlib import Path

IDES = ["vscode", "jetbrains", "visualstudio", "neovim", "xcode", "eclipse"]
FEATURES = [
    "code_completion",
    "chat_panel_agent_mode",
    "chat_panel_ask_mode",
    "chat_panel_edit_mode",
    "chat_inline",
    "agent_edit",
]
LANGUAGES = ["python", "typescript", "javascript", "go", "java", "csharp", "rust", "sql", "yaml", "markdown"]
MODELS = ["claude-sonnet-4.5", "gpt-5", "gpt-5-mini", "gemini-2.5-pro", "claude-opus-4.1"]
COUNTERS = [
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
]
CODE_COUNTERS = COUNTERS[1:]


def _counters(rng: random.Random, scale: int, names: list[str]) -> dict[str, int]:
    gen = rng.randint(0, scale)
    acc = rng.randint(0, gen)
    sugg = gen * rng.randint(1, 8)
    vals = {
        "user_initiated_interaction_count": rng.randint(0, scale),
        "code_generation_activity_count": gen,
        "code_acceptance_activity_count": acc,
        "loc_suggested_to_add_sum": sugg,
        "loc_suggested_to_delete_sum": rng.randint(0, sugg // 4 + 1),
        "loc_added_sum": rng.randint(0, sugg + 20),
        "loc_deleted_sum": rng.randint(0, 40),
    }
    return {k: vals[k] for k in names}


def _stamp(rng: random.Random, day: str) -> str:
    return f"{day}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.000Z"


def _body(rng: random.Random, day: str) -> dict:
    """Everything of a user-day record except its identifying keys."""
    active = rng.random() > 0.4
    scale = 60 if active else 0
    rec: dict = _counters(rng, scale, COUNTERS)
    for mode in ("chat_panel_agent_mode", "chat_panel_ask_mode", "chat_panel_edit_mode"):
        rec[mode] = rng.randint(0, scale // 2)
    if rng.random() < 0.5:
        rec["chat_panel_plan_mode"] = rng.randint(0, 5)
    for flag in (
        "used_chat",
        "used_agent",
        "used_copilot_code_review_active",
        "used_copilot_code_review_passive",
        "used_copilot_cloud_agent",
    ):
        rec[flag] = active and rng.random() < 0.5
    rec["used_copilot_coding_agent"] = rec["used_copilot_cloud_agent"]
    if rng.random() < 0.6:
        rec["used_cli"] = active and rng.random() < 0.3
    rec["ai_credits_used"] = round(rng.random() * 30, 2)
    phase = rng.randint(1, 4)
    rec["ai_adoption_phase"] = {"phase": f"Phase {phase}", "phase_number": phase, "version": "v1"}
    rec["totals_by_ide"] = [
        {
            "ide": ide,
            **_counters(rng, scale, COUNTERS),
            "last_known_ide_version": {
                "ide_version": f"1.{rng.randint(90, 110)}.{rng.randint(0, 9)}",
                "sampled_at": _stamp(rng, day),
            },
            "last_known_plugin_version": {
                "plugin": "copilot-chat",
                "plugin_version": f"0.{rng.randint(30, 40)}.{rng.randint(0, 9)}",
                "sampled_at": _stamp(rng, day),
            },
        }
        for ide in rng.sample(IDES, 1 if rng.random() < 0.7 else 2)
    ]
    rec["totals_by_feature"] = [
        {"feature": f, **_counters(rng, scale, COUNTERS)} for f in rng.sample(FEATURES, rng.randint(1, 4))
    ]
    rec["totals_by_language_feature"] = [
        {"language": lang, "feature": f, **_counters(rng, scale, CODE_COUNTERS)}
        for lang in rng.sample(LANGUAGES, rng.randint(1, 4))
        for f in [rng.choice(FEATURES[:3])]
    ]
    rec["totals_by_language_model"] = [
        {"language": lang, "model": rng.choice(MODELS), **_counters(rng, scale, CODE_COUNTERS)}
        for lang in rng.sample(LANGUAGES, rng.randint(1, 2))
    ]
    rec["totals_by_model_feature"] = [
        {"model": m, "feature": rng.choice(FEATURES[1:4]), **_counters(rng, scale, COUNTERS)}
        for m in rng.sample(MODELS, rng.randint(1, 2))
    ]
    if rng.random() < 0.15:
        rec["totals_by_cli"] = {
            "session_count": rng.randint(1, 9),
            "request_count": rng.randint(1, 140),
            "prompt_count": rng.randint(1, 30),
            "token_usage": {
                "output_tokens_sum": rng.randint(100, 50000),
                "prompt_tokens_sum": rng.randint(1000, 400000),
                "avg_tokens_per_request": round(rng.random() * 4000, 1),
            },
            "last_known_cli_version": {
                "cli_version": f"0.0.{rng.randint(300, 360)}",
                "sampled_at": _stamp(rng, day),
            },
        }
    if rng.random() < 0.9:
        rec["totals_by_skill"] = [{"skill": "other", "user_initiated_interaction_count": rng.randint(0, 5)}]
    return rec


def write_users_day(
    root: Path,
    day: date,
    users: int,
    *,
    parts: int = 4,
    scope_type: str = "organization",
    scope_name: str = "bench-org",
    report: str = "users-1-day",
    seed: int = 7,
    variants: int = 512,
) -> dict:
    """Write one landed ``users-1-day`` partition of ``users`` records split over ``parts`` files.

    Returns:
        ``{"dir", "files", "records", "bytes", "avg_record_bytes"}``.
    """
    rng = random.Random(seed)
    d = day.isoformat()
    bodies = [json.dumps(_body(rng, d), separators=(",", ":"))[1:] for _ in range(variants)]
    org_id = "424242"
    ent_id = "13213"
    dest = Path(root) / scope_type / scope_name / report / d
    dest.mkdir(parents=True, exist_ok=True)
    per_part = -(-users // parts)
    total_bytes = 0
    files = []
    for p in range(parts):
        lo, hi = p * per_part, min(users, (p + 1) * per_part)
        if lo >= hi:
            break
        name = f"part-{p + 1:04d}.ndjson"
        chunk = "".join(
            f'{{"day":"{d}","user_id":{1_000_000 + i},"user_login":"member-{i:06d}",'
            f'"organization_id":"{org_id}","enterprise_id":"{ent_id}",{bodies[(i * 2654435761) % variants]}\n'
            for i in range(lo, hi)
        ).encode()
        (dest / name).write_bytes(chunk)
        total_bytes += len(chunk)
        files.append(str(dest / name))
    write_manifest(dest, scope_type, scope_name, report, d)
    return {
        "dir": str(dest),
        "files": files,
        "records": users,
        "bytes": total_bytes,
        "avg_record_bytes": round(total_bytes / max(users, 1)),
    }


def write_manifest(dest: Path, scope_type: str, scope_name: str, report: str, day: str) -> dict:
    """Write ``_manifest.json`` for the ``part-*.ndjson`` files in ``dest`` (bytes and sha256)."""
    parts = []
    for path in sorted(Path(dest).glob("part-*.ndjson")):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        parts.append({"file": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()})
    manifest = {
        "scope_type": scope_type,
        "scope_name": scope_name,
        "report": report,
        "day": day,
        "http_status": 200,
        "parts": parts,
        "fetched_at": datetime.now(UTC).isoformat(),
    }
    (Path(dest) / "_manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def write_simulator_users_day(
    root: Path, day: date, users: int, *, parts: int = 4, scope_name: str = "bench-org"
) -> dict:
    """The same partition written by the simulator's own ``write_users_day`` (server records)."""
    from copilot_dev.simulator.data import write_users_day as sim_write

    dest = Path(root) / "organization" / scope_name / "users-1-day" / day.isoformat()
    info = sim_write(dest, users=users, parts=parts, day=day, org=scope_name)
    write_manifest(dest, "organization", scope_name, "users-1-day", day.isoformat())
    return {
        "dir": str(dest),
        "files": info["files"],
        "records": users,
        "bytes": info["bytes"],
        "avg_record_bytes": round(info["bytes"] / max(users, 1)),
    }
