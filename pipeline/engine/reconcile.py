"""Recovery from a promotion that died (or whose lock was broken): make the env run only verified code.

For every target of the open `started` record that has no outcome yet, the alias goes back to
what the started record says it pointed at before (an alias the dead run created is removed),
then an ABORTED outcome closes the lock. Targets that already have an outcome are left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.aws.ledger import LedgerView
from pipeline.config.merged import Environment, Target
from pipeline.core.function import LIVE_ALIAS
from pipeline.core.ledger import LockState, target_key
from pipeline.engine.recorder import Recorder

if TYPE_CHECKING:
    from pipeline.engine.promote import Promotion


def reconcile(promotion: Promotion, env: Environment, view: LedgerView, lock: LockState, why: str = "") -> list[str]:
    started = lock.started
    assert started is not None
    done = {target_key(r.get("target")) for r in view.newest_first() if r.seq > started.seq and r.type == "outcome"}
    previous: dict[str, Any] = started.get("previous") or {}
    holder = (started.get("holder") or {}).get("actor", "unknown")
    reason = why or f"{started.get('action', 'promotion')} by {holder} ({started.key}) did not finish"
    promotion.out.progress(f"{env.name}: reconciling: {reason}")
    recorder = Recorder(promotion.ledger, view, promotion.now)
    pending = [t for t in started.get("targets", []) if target_key(t) not in done]
    notes: list[str] = []
    for i, target in enumerate(pending):
        label = target_key(target)
        fn = promotion.function(env, Target(target["account"], target["region"]))
        before = (previous.get(label) or {}).get("version")
        live = fn.version(LIVE_ALIAS)
        if before is None:
            if live is not None:
                fn.delete_alias(LIVE_ALIAS)
                notes.append(f"{label}: removed alias {LIVE_ALIAS} (v{live.version}, never verified)")
            else:
                notes.append(f"{label}: no alias, nothing to undo")
        else:
            fn.point_alias(LIVE_ALIAS, before)  # also clears canary weights
            moved = live is not None and live.version != before
            notes.append(f"{label}: alias {LIVE_ALIAS} " + (f"moved back v{live.version} -> v{before}" if moved
                                                            else f"kept at v{before} (weights cleared)"))
        recorder.append({"type": "outcome", "action": started.get("action", "promote"), "started_seq": started.seq,
                         "target": target, "account": target["account"], "region": target["region"],
                         "artifact": started.get("artifact"), "commit": started.get("commit"),
                         "outcome": "ABORTED", "reason": f"{reason}; {notes[-1]}", "version": None,
                         "previous_version": before, "actor": promotion.actor, "closes": i == len(pending) - 1})
    if not pending:
        recorder.append({"type": "unlock", "started_seq": started.seq, "actor": promotion.actor,
                         "reason": f"{reason}; every target already had an outcome"})
    for note in notes:
        promotion.out.progress(f"  {note}")
    return notes
