"""`bihuan audit verify`: every chain, its hazard row and the latest signed checkpoint.

Walks the hazards in id order, in keyset batches of BATCH hazards (with their events and the
checkpoint's heads for the same id range), so memory stays bounded however many there are.
For each hazard it checks:

- the chain itself: seqs 1, 2, ... without a gap, each event's prev_hash the hash before it,
  each hash its content's (an edited, deleted or inserted event breaks it);
- the row's head (head_seq, head_hash) against the chain's last event: newest events deleted
  leave a chain that ends before its head;
- the row's state, level and deadline against what the timeline says (the last event's
  to_state, the report's level, the last deadline an event set): a row changed behind the
  timeline's back;
- the hazard codes: each county's codes are numbered without gaps (hazard_counter issues
  them in the report's transaction), so a code issued that no hazard has names a hazard
  deleted with everything referring to it, checkpoint or not (but the newest code of a
  county and year, if its counter was turned back too);
- the security audit log (services/integrity/audit_chain.py): its entries' chain, its head,
  its purge base, and the head the checkpoint signed;
- the latest checkpoint whose signature holds: a hazard it signed that is no longer there, a
  chain shorter than its signed head, a chain whose event at that seq is not the one signed
  (rewritten: the head moved without the events that lead to it). The heads it keeps must
  add up to the digest it signed. A checkpoint whose signature does not hold is reported.
"""

import gzip
import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.crypto import Profile, digest_name, new_digest
from app.models import AuditCheckpoint, AuditCheckpointHead, Event, Hazard, HazardCounter
from app.services.crypto.state import ChainProfiles, chain_profiles
from app.services.hazards.timeline import GENESIS, compute_hash
from app.services.integrity import keys
from app.services.integrity.audit_chain import (
    AuditProblem,
    AuditWalk,
    SignedAuditHead,
    audit_problems,
    signed_head_of,
)
from app.services.integrity.checkpoints import FORMAT, Head, head_line, parse_head_line

BATCH = 2000
_CODE = re.compile(r"YH-(\d{6})-(\d{4})-(\d+)")  # services/hazards/report._next_code

_EVENT_COLUMNS = tuple(Event.__table__.c)
_HAZARD_COLUMNS = (Hazard.id, Hazard.code, Hazard.state, Hazard.level, Hazard.deadline,
                   Hazard.head_seq, Hazard.head_hash)


@dataclass(frozen=True)
class Finding:
    problem: str
    hazard_id: int | None = None
    code: str | None = None
    event_id: int | None = None
    seq: int | None = None
    checkpoint_id: int | None = None
    # A problem of the security audit log (seq: the entry's), not of a hazard's timeline.
    audit: bool = False

    def line(self) -> str:
        if self.audit:
            return AuditProblem(self.problem, self.seq).line()
        if self.hazard_id is None and self.code is not None:
            return f"BROKEN hazard {self.code} (id unknown): {self.problem}"
        if self.hazard_id is None:
            return f"BROKEN checkpoint #{self.checkpoint_id}: {self.problem}"
        who = (f"hazard {self.code} (id {self.hazard_id})" if self.code
               else f"hazard id {self.hazard_id}")
        where = f" event {self.event_id} (seq {self.seq})" if self.event_id is not None else ""
        return f"BROKEN {who}{where}: {self.problem}"


@dataclass(frozen=True)
class SignedCheckpoint:
    """The checkpoint compared against: what its payload says (signed, when a key is set)."""

    id: int
    hazards: int
    events: int
    heads_digest: str
    taken_at: str
    signature_checked: bool
    # The digest its heads were taken with: the chains' profile when it was signed.
    digest_profile: Profile = "default"
    # The audit log's head it signed (None: taken before the log was included).
    audit: SignedAuditHead | None = None


class _Heads:
    """A checkpoint's heads in hazard id order, handed out one id range at a time."""

    def __init__(self, session: Session | None, checkpoint_id: int | None,
                 lines: Iterator[str] | None = None) -> None:
        self._session, self._checkpoint_id, self._lines = session, checkpoint_id, lines
        self._pending: Head | None = None

    def between(self, after: int, upto: int | None) -> list[Head]:
        if self._lines is not None:
            return self._from_lines(upto)
        assert self._session is not None
        query = (select(AuditCheckpointHead.hazard_id, AuditCheckpointHead.code,
                        AuditCheckpointHead.seq, AuditCheckpointHead.hash)
                 .where(AuditCheckpointHead.checkpoint_id == self._checkpoint_id,
                        AuditCheckpointHead.hazard_id > after)
                 .order_by(AuditCheckpointHead.hazard_id))
        if upto is not None:
            query = query.where(AuditCheckpointHead.hazard_id <= upto)
        return [Head(*row) for row in self._session.execute(query)]

    def _from_lines(self, upto: int | None) -> list[Head]:
        assert self._lines is not None
        taken: list[Head] = []
        while True:
            if self._pending is None:
                line = next(self._lines, None)
                if line is None:
                    return taken
                self._pending = parse_head_line(line)
            if upto is not None and self._pending.hazard_id > upto:
                return taken
            taken.append(self._pending)
            self._pending = None


@dataclass
class Verifier:
    """Run `findings()`; the counts and notes are complete once it is exhausted."""

    session: Session
    public_key: Ed25519PublicKey | None
    batch: int = BATCH
    # The HMAC-SM3 key of checkpoints signed under CRYPTO_PROFILE=gm (keys.load_hmac_checker).
    hmac_key: bytes | None = None
    # An external copy (checkpoint-<id>.json beside its .heads.gz) instead of the database's.
    checkpoint_file: Path | None = None
    hazards: int = 0
    events: int = 0
    problems: int = 0
    audit: AuditWalk = field(default_factory=AuditWalk)
    checkpoint: SignedCheckpoint | None = None
    notes: list[str] = field(default_factory=list)
    _opened: Any = None
    # Which digest wrote each link (the database's crypto_state, never the setting alone).
    profiles: ChainProfiles = field(default_factory=lambda: ChainProfiles("default"))
    # (county code, year) -> a bitmap of the code numbers seen: N/8 bytes for N hazards.
    _codes: dict[tuple[str, int], bytearray] = field(default_factory=dict)

    def findings(self) -> Iterator[Finding]:
        for finding in self._walk():
            self.problems += 1
            yield finding

    def _walk(self) -> Iterator[Finding]:
        try:
            yield from self._walk_all()
        finally:
            if self._opened is not None:
                self._opened.close()

    def _walk_all(self) -> Iterator[Finding]:
        self.profiles = chain_profiles(self.session)
        setting = get_settings().crypto_profile
        if setting != self.profiles.current:
            self.notes.append(f"CRYPTO_PROFILE is {setting} but this database's chains are "
                              f"written with {self.profiles.current}: each link is verified "
                              "with the digest it was written with")
        if self.checkpoint_file is not None:
            heads = yield from self._external_checkpoint(self.checkpoint_file)
        else:
            heads = yield from self._latest_checkpoint()
        digest_profile = self.checkpoint.digest_profile if self.checkpoint else "default"
        digest, signed_heads, signed_events = new_digest(digest_profile), 0, 0
        after = 0
        while True:
            hazards = self.session.execute(
                select(*_HAZARD_COLUMNS).where(Hazard.id > after).order_by(Hazard.id)
                .limit(self.batch)).all()
            upto = hazards[-1].id if len(hazards) == self.batch else None
            query = (select(*_EVENT_COLUMNS).where(Event.hazard_id > after)
                     .order_by(Event.hazard_id, Event.seq))
            if upto is not None:
                query = query.where(Event.hazard_id <= upto)
            events: dict[int, list[Row[Any]]] = {}
            for event in self.session.execute(query):
                events.setdefault(event.hazard_id, []).append(event)
            try:
                kept = heads.between(after, upto) if heads is not None else []
            except (OSError, EOFError, ValueError) as error:  # a damaged copy's heads
                assert self.checkpoint is not None
                yield Finding(f"its heads cannot be read past hazard id {after}: {error}",
                              checkpoint_id=self.checkpoint.id)
                heads, self.checkpoint, kept = None, None, []
            for head in kept:
                digest.update(head_line(head))
            signed_heads += len(kept)
            signed_events += sum(h.seq for h in kept)
            rows = {row.id: row for row in hazards}
            signed = {head.hazard_id: head for head in kept}
            for hazard_id in sorted(rows.keys() | events.keys() | signed.keys()):
                yield from self._hazard(hazard_id, rows.get(hazard_id),
                                        events.get(hazard_id, []), signed.get(hazard_id))
            for row in hazards:
                self._saw_code(row.code)
            self.hazards += len(hazards)
            self.events += sum(len(chain) for chain in events.values())
            if upto is None:
                break
            after = upto
        yield from self._code_gaps()
        signed_audit = self.checkpoint.audit if self.checkpoint is not None else None
        for problem in audit_problems(self.session, signed_audit, self.audit,
                                      profiles=self.profiles):
            yield Finding(problem.problem, seq=problem.seq, audit=True)
        if self.checkpoint is not None and heads is not None:
            c = self.checkpoint
            if (digest.hexdigest(), signed_heads, signed_events) != (
                    c.heads_digest, c.hazards, c.events):
                yield Finding(
                    f"the heads kept with it ({signed_heads} hazards, {signed_events} events) "
                    f"are not the ones it signed ({c.hazards} hazards, {c.events} events, "
                    "digest differs): its head rows were edited or deleted",
                    checkpoint_id=c.id)

    # Hazard codes

    def _saw_code(self, code: str) -> None:
        match = _CODE.fullmatch(code)
        if match is None:
            return
        county, year, number = match[1], int(match[2]), int(match[3])
        bits = self._codes.setdefault((county, year), bytearray())
        if number // 8 >= len(bits):
            bits.extend(bytes(number // 8 + 1 - len(bits)))
        bits[number // 8] |= 1 << (number % 8)

    def _code_gaps(self) -> Iterator[Finding]:
        issued = self.session.execute(
            select(HazardCounter.county_code, HazardCounter.year, HazardCounter.last)
            .order_by(HazardCounter.county_code, HazardCounter.year)).all()
        for county, year, last in issued:
            bits = self._codes.get((county, year), bytearray())
            for number in range(1, last + 1):
                if number // 8 >= len(bits) or not bits[number // 8] & (1 << (number % 8)):
                    yield Finding(f"code issued (hazard_counter {county}/{year} is at {last}) "
                                  "but no hazard has it: deleted with everything referring "
                                  "to it", code=f"YH-{county}-{year}-{number:05d}")

    # The checkpoint compared against

    def _latest_checkpoint(self) -> Generator[Finding, None, _Heads | None]:
        rows = self.session.execute(
            select(AuditCheckpoint.id, AuditCheckpoint.payload, AuditCheckpoint.signature)
            .order_by(AuditCheckpoint.id.desc()).execution_options(yield_per=100))
        for row in rows:
            checkpoint, problem = self._read_payload(row.id, row.payload, row.signature)
            if problem is not None:
                yield Finding(problem, checkpoint_id=row.id)
                continue
            assert checkpoint is not None
            self.checkpoint = checkpoint
            rows.close()
            return _Heads(self.session, checkpoint.id)
        self.notes.append("no signed checkpoint to compare with: take one with "
                          "`bihuan audit checkpoint` (the worker takes one daily)")
        return None

    def _external_checkpoint(self, path: Path) -> Generator[Finding, None, _Heads | None]:
        try:
            document = json.loads(path.read_text())
            payload, signature = document["payload"], document["signature"]
            checkpoint_id = json.loads(payload)["checkpoint"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            yield Finding(f"the copy {path} cannot be read: {error}", checkpoint_id=0)
            return None
        checkpoint, problem = self._read_payload(checkpoint_id, payload, signature)
        if problem is not None:
            yield Finding(f"{problem} (copy {path})", checkpoint_id=checkpoint_id)
            return None
        heads_path = path.with_name(path.name.removesuffix(".json") + ".heads.gz")
        if not heads_path.is_file():
            yield Finding(f"the copy's heads {heads_path} are missing", checkpoint_id=checkpoint_id)
            return None
        self.checkpoint = checkpoint
        # Read line by line as the walk goes; closed with the walk (_walk's finally).
        self._opened = gzip.open(heads_path, "rt", encoding="utf-8")  # noqa: SIM115
        return _Heads(None, None, iter(self._opened))

    def _read_payload(self, checkpoint_id: int, payload: str,
                      signature: str) -> tuple[SignedCheckpoint | None, str | None]:
        try:
            data = json.loads(payload)
            chains = data.get("chains") or {"profile": "default", "epochs": []}
            profile = cast(Profile, chains["profile"] if chains["profile"] == "gm" else "default")
            fields = (data["format"], int(data["checkpoint"]), int(data["hazards"]),
                      int(data["events"]), str(data[f"heads_{digest_name(profile)}"]),
                      str(data["taken_at"]), str(data.get("signature_scheme", keys.ED25519)))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None, "its payload is not a checkpoint: altered"
        form, named, hazards, events, digest, taken_at, scheme = fields
        checked, problem = self._signature(scheme, signature, payload)
        if problem is not None:
            return None, problem
        if form != FORMAT or named != checkpoint_id:
            return None, f"its signed payload is checkpoint #{named}'s: a copy put in its place"
        if not self._follows(chains):
            return None, ("the chains' profiles it signed are not the database's (crypto_state "
                          "edited: links would be checked with the wrong digest)")
        if not checked:
            setting = ("AUDIT_HMAC_KEY_FILE" if scheme == keys.HMAC_SM3
                       else "AUDIT_PUBLIC_KEY_FILE (or AUDIT_SIGNING_KEY_FILE)")
            self.notes.append(f"checkpoint #{checkpoint_id}'s signature was not checked: set "
                              f"{setting}")
        return SignedCheckpoint(checkpoint_id, hazards, events, digest, taken_at, checked,
                                profile, signed_head_of(checkpoint_id, data)), None

    def _signature(self, scheme: str, signature: str,
                   payload: str) -> tuple[bool, str | None]:
        """(checked, problem): a scheme whose key is not configured is not checked, unless
        the other scheme's key is (then it is one the verifier was not told to expect)."""
        bad = ("its signature does not verify with the configured key: forged or altered "
               "(or signed by another key)")
        if scheme == keys.HMAC_SM3:
            if self.hmac_key is not None:
                return True, None if keys.hmac_holds(self.hmac_key, signature, payload) else bad
            if self.public_key is not None:
                return False, ("it says it is signed with HMAC-SM3 but only an Ed25519 key is "
                               "configured: set AUDIT_HMAC_KEY_FILE, or it is forged")
            return False, None
        if scheme != keys.ED25519:
            return False, f"its signature scheme {scheme!r} is unknown: altered"
        if self.public_key is not None:
            holds = keys.signature_holds(self.public_key, signature, payload)
            return True, None if holds else bad
        if self.hmac_key is not None:
            return False, ("it says it is signed with Ed25519 but only an HMAC-SM3 key is "
                           "configured: set AUDIT_PUBLIC_KEY_FILE, or it is forged")
        return False, None

    def _follows(self, signed: dict[str, Any]) -> bool:
        """The database's profiles are those signed, or grew from them by rekeys: the signed
        epochs come first, then (if any more) one that ends the profile signed as current."""
        now = self.profiles
        epochs = list(signed.get("epochs") or [])
        if list(now.epochs[:len(epochs)]) != epochs:
            return False
        if len(now.epochs) == len(epochs):
            return bool(now.current == signed.get("profile"))
        return bool(now.epochs[len(epochs)]["profile"] == signed.get("profile"))

    # One hazard

    def _hazard(self, hazard_id: int, row: Row[Any] | None, chain: list[Row[Any]],
                signed: Head | None) -> Iterator[Finding]:
        code = row.code if row is not None else signed.code if signed is not None else None

        def finding(problem: str, event: Row[Any] | None = None) -> Finding:
            return Finding(problem, hazard_id, code, event.id if event is not None else None,
                           event.seq if event is not None else None)

        expected_prev, expected_seq = GENESIS, 1
        for event in chain:
            if event.seq != expected_seq:
                yield finding(f"sequence gap: expected seq {expected_seq}", event)
            if event.prev_hash != expected_prev:
                yield finding("prev_hash does not match the previous event", event)
            profile = self.profiles.of("event", event.id)
            if compute_hash(event.prev_hash, cast(Event, event), profile) != event.hash:
                yield finding("content does not match its hash (edited)", event)
            expected_prev, expected_seq = event.hash, event.seq + 1
        last = chain[-1] if chain else None
        if row is None:
            if chain:
                yield finding(f"{len(chain)} events of a hazard whose row is gone (deleted)")
        elif last is None:
            yield finding(f"the hazard has no events, its head is seq {row.head_seq}: its "
                          "timeline was deleted")
        else:
            yield from self._row_against_chain(row, chain, last, finding)
        if signed is not None and self.checkpoint is not None:
            yield from self._against_checkpoint(row, chain, signed, finding)

    def _row_against_chain(self, row: Row[Any], chain: list[Row[Any]], last: Row[Any],
                           finding: Any) -> Iterator[Finding]:
        if row.head_seq > last.seq:
            yield finding(f"the chain ends at seq {last.seq} but the hazard's head is seq "
                          f"{row.head_seq}: its newest events were deleted (truncated)")
        elif row.head_seq < last.seq:
            yield finding(f"the chain goes on to seq {last.seq} past the hazard's head seq "
                          f"{row.head_seq}: events were added behind its back")
        elif row.head_hash != last.hash:
            yield finding(f"the hazard's head hash is not that of its last event (seq "
                          f"{last.seq}): the chain or the head was rewritten")
        state, level, deadline = told_by(chain)
        if str(row.state) != state:
            yield finding(f"the row's state is {row.state} but the timeline ends in {state}")
        if level is not None and str(row.level) != level:
            yield finding(f"the row's level is {row.level} but it was reported {level}")
        row_deadline = row.deadline.isoformat() if row.deadline is not None else None
        if row_deadline != deadline:
            yield finding(f"the row's deadline is {row_deadline} but the timeline set "
                          f"{deadline}")

    def _against_checkpoint(self, row: Row[Any] | None, chain: list[Row[Any]], signed: Head,
                            finding: Any) -> Iterator[Finding]:
        assert self.checkpoint is not None
        name = f"checkpoint #{self.checkpoint.id} ({self.checkpoint.taken_at})"
        if row is None:
            self._saw_code(signed.code)  # named here: not again as a gap in the codes
            yield finding(f"missing: {name} signed it with head seq {signed.seq}, and it is no "
                          "longer in the database (deleted)")
            return
        at_head = next((e for e in chain if e.seq == signed.seq), None)
        length = chain[-1].seq if chain else 0
        if at_head is None:
            yield finding(f"the chain ends at seq {length}, shorter than its head seq "
                          f"{signed.seq} signed by {name} (truncated)")
        elif at_head.hash != signed.hash:
            yield finding(f"the event at seq {signed.seq} is not the one {name} signed: the "
                          "head moved without the events that lead to it (rewritten)", at_head)
        if row.code != signed.code:
            yield finding(f"its code was {signed.code} when {name} was taken")


def told_by(chain: list[Row[Any]]) -> tuple[str, str | None, str | None]:
    """(state, level, deadline) as the timeline tells them: the last event's to_state, the
    level reported, the last deadline an event set (assign, return, extension, recompute)."""
    state = chain[-1].to_state
    first = chain[0]
    level = first.data.get("level") if first.action == "report" else None
    deadline: str | None = None
    for event in chain:
        value = event.data.get("deadline") if isinstance(event.data, dict) else None
        if isinstance(value, str):
            deadline = value
        elif isinstance(value, dict) and value.get("to"):
            deadline = str(value["to"])
    return state, level, deadline
