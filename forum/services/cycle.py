"""The phase change of processes: idempotent, safe to run from cron every minute."""
from sqlalchemy import select

from .. import permissions
from ..db import write_transaction
from ..errors import Conflict, require
from ..extensions import db
from ..models import PolicyLab, Process, Proposal, utcnow
from . import audit
from .deliberation import get_process
from .intake import close_amendment_window
from .labs import close_at_deadline


def advance(process_id, now=None):
    """Move one process on as far as its deadlines allow. Returns what was done."""
    now = now or utcnow()
    done = []
    process = db.session.get(Process, process_id)
    if process.phase == "proposals" and now >= process.amendments_close_at:
        for proposal_id in db.session.scalars(select(Proposal.id).where(
                Proposal.process_id == process.id, Proposal.status == "open")).all():
            try:
                close_amendment_window(None, proposal_id)
            except Conflict:
                continue  # closed meanwhile, early or by a concurrent run
            done.append(f"closed the window of proposal {proposal_id}")
        done += _set_phase(process.id, "proposals", "labs")
    process = db.session.get(Process, process_id)
    if process.phase == "labs" and now >= process.labs_close_at:
        for lab in db.session.scalars(select(PolicyLab).join(Proposal).where(
                Proposal.process_id == process.id, PolicyLab.status == "open")).all():
            close_at_deadline(lab)
            done.append(f"finalised lab {lab.id}")
        done += _set_phase(process.id, "labs", "ballot")
    return done


def _set_phase(process_id, old, new):
    with write_transaction():
        process = db.session.scalar(select(Process).where(Process.id == process_id)
                                    .with_for_update(of=Process))
        if process.phase != old:
            return []  # another run got here first
        process.phase = new
        audit.record(None, f"phase_{new}", "process", process.id)
    return [f"process {process_id} entered its {new} phase"]


def advance_all(now=None):
    done = []
    for process_id in db.session.scalars(select(Process.id).where(
            Process.phase.in_(("proposals", "labs")))).all():
        done += advance(process_id, now)
    return done


def advance_process(actor, process_id):
    """The admin button: the same operation as the cron job, for one process."""
    require(permissions.can_advance_process(actor))
    process = get_process(process_id)
    return advance(process.id)
