"""The state of one live conference and what each message changes; no tornado, so it is tested alone.

Every method takes checked fields (see :mod:`.messages`) and returns the messages to send
as ``(audience, message)`` pairs, where the audience is one of :data:`EVERYONE`,
:data:`PRESENTER`, :data:`PARTICIPANTS`, :data:`YOU` (the sender only) or :func:`one` participant. A request that
the state refuses (an answer to a closed poll, a second vote) raises
:class:`~.messages.Rejected` or returns nothing. State is the *last* snapshot with its
sequence number, never a history: a joiner catches up with one message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from readingroom.server.conference.messages import PRESENTER, Rejected

EVERYONE, PARTICIPANTS, YOU = "everyone", "participants", "you"


def one(participant: int) -> str:
    """The audience of one participant's sockets, on whichever process they are (e.g. "you may speak")."""
    return f"participant:{participant}"

MAX_OPEN_QUESTIONS = 10  # per participant: the queue stays readable
MAX_QUESTIONS = 500

Outgoing = list[tuple[str, dict]]


@dataclass
class Member:
    """A participant in the roster; ``connections`` counts their open sockets (two tabs are one person)."""

    id: int
    name: str
    connections: int = 0
    following: bool = True
    rtt_ms: float | None = None

    def entry(self) -> dict:
        return {"id": self.id, "name": self.name, "connected": self.connections > 0, "following": self.following,
                "rtt_ms": self.rtt_ms}


@dataclass
class Question:
    id: int
    text: str
    by: int
    by_name: str
    voters: set[int] = field(default_factory=set)
    answered: bool = False
    votes: int = 0  # where the voters are kept elsewhere (a room on Redis counts them there)

    def entry(self) -> dict:
        return {"id": self.id, "text": self.text, "by": self.by_name, "votes": len(self.voters) or self.votes,
                "answered": self.answered}


class Room:
    """One session's live state: the presenter's last view, the poll, the Q&A queue and the roster.

    Attributes the pages may read: ``seq`` (0 before the first view), ``view`` (the last
    snapshot or None), ``t``, ``poll`` (the open poll or None), ``ended``; and the methods
    :meth:`results`, :meth:`questions`, :meth:`roster`.
    """

    def __init__(self) -> None:
        self.seq = 0
        self.view: dict | None = None
        self.t: float | None = None
        self.poll: dict | None = None
        self.ended = False
        self._answers: dict[str, dict[int, int | dict]] = {}  # poll id -> participant -> answer (last counts)
        self._polls: dict[str, dict] = {}
        self._last_closed: str | None = None
        self._questions: list[Question] = []
        self.members: dict[int, Member] = {}

    # Connections

    def connect(self, participant: int, name: str) -> str:
        """A participant's socket opened: "join" the first time, "reconnect" after all theirs closed, else ""."""
        member = self.members.get(participant)
        if member is None:
            member = self.members[participant] = Member(participant, name)
            kind = "join"
        else:
            kind = "reconnect" if member.connections == 0 else ""
        member.connections += 1
        return kind

    def disconnect(self, participant: int) -> bool:
        """A participant's socket closed; True when it was their last one (they left)."""
        member = self.members[participant]
        member.connections = max(0, member.connections - 1)
        return member.connections == 0

    def welcome(self, you: dict) -> dict:
        """What a socket gets on opening: the current state, not a replay."""
        shown = shown_results(you, self.poll, self._last_closed)
        poll_id = self.poll["id"] if self.poll else None
        return welcome_message(you, self.seq, self.view, self.t, self.poll, self.results(shown) if shown else None,
                               self._answers[poll_id].get(you["id"]) if poll_id else None, self.questions(),
                               self.ended)

    # The presenter

    def publish(self, view: dict, t: float | None) -> Outgoing:
        self.seq += 1
        self.view, self.t = view, t
        return [(PARTICIPANTS, {"type": "view", "seq": self.seq, "view": view, "t": t})]

    def open_poll(self, poll: dict) -> Outgoing:
        """Open a poll (closing one still open); a poll id names one poll for the whole session."""
        if poll["id"] in self._polls:
            raise Rejected("poll id already used in this session")
        out = self.close_poll(self.poll["id"]) if self.poll else []
        self.poll = poll
        self._polls[poll["id"]] = poll
        self._answers[poll["id"]] = {}
        return out + [(EVERYONE, {"type": "poll", "poll": poll}), (PRESENTER, self.results(poll["id"]))]

    def close_poll(self, poll_id: str) -> Outgoing:
        if self.poll is None or self.poll["id"] != poll_id:
            raise Rejected("no such open poll")
        self.poll = None
        self._last_closed = poll_id
        return [(EVERYONE, {"type": "poll", "poll": None}), (EVERYONE, self.results(poll_id))]

    def mark_answered(self, question: int) -> Outgoing:
        self._question(question).answered = True
        return [(EVERYONE, self._questions_message())]

    def end(self) -> Outgoing:
        self.ended = True
        self.poll = None
        return [(EVERYONE, {"type": "ended"})]

    # Participants

    def answer(self, participant: int, poll_id: str, answer: int | dict) -> Outgoing:
        """Record a participant's answer to the open poll (the last one counts); live results to the presenter."""
        self.check_answer(poll_id, answer)
        self._answers[poll_id][participant] = answer
        return [(PRESENTER, self.results(poll_id))]

    def check_answer(self, poll_id: str, answer: int | dict) -> None:
        """Rejected unless ``answer`` fits the open poll; the socket checks before keeping it in the records."""
        check_fit(self.poll, poll_id, answer)

    def ask(self, participant: int, text: str) -> Outgoing:
        mine = sum(1 for q in self._questions if q.by == participant and not q.answered)
        if mine >= MAX_OPEN_QUESTIONS or len(self._questions) >= MAX_QUESTIONS:
            raise Rejected("too many questions waiting")
        name = self.members[participant].name
        self._questions.append(Question(len(self._questions) + 1, text, participant, name))
        return [(EVERYONE, self._questions_message())]

    def upvote(self, participant: int, question: int) -> Outgoing:
        """One upvote per participant per question; a repeat changes nothing and sends nothing."""
        voters = self._question(question).voters
        if participant in voters:
            return []
        voters.add(participant)
        return [(EVERYONE, self._questions_message())]

    def set_following(self, participant: int, value: bool) -> Outgoing:
        self.members[participant].following = value
        return [(PRESENTER, self.roster_message())]

    def set_rtt(self, participant: int, rtt_ms: float) -> None:
        self.members[participant].rtt_ms = round(rtt_ms, 1)

    # What everyone sees

    def results(self, poll_id: str) -> dict:
        """Choice polls: a count per option (with the options); locate polls: every point."""
        return results_message(self._polls[poll_id], self._answers[poll_id].values())

    def questions(self) -> list[dict]:
        """The queue, unanswered first, most upvoted first, then oldest first."""
        return queue(self._questions)

    def roster(self) -> list[dict]:
        return [m.entry() for m in self.members.values()]

    def roster_message(self) -> dict:
        return {"type": "roster", "roster": self.roster()}

    def _questions_message(self) -> dict:
        return {"type": "questions", "questions": self.questions()}

    def _question(self, question: int) -> Question:
        if not 1 <= question <= len(self._questions):
            raise Rejected("no such question")
        return self._questions[question - 1]



# The rules every room keeps, wherever its state lives (here, or in Redis: rooms_redis.py).


def check_fit(poll: dict | None, poll_id: str, answer: int | dict) -> None:
    """Rejected unless ``answer`` fits ``poll`` and ``poll`` is the open poll named ``poll_id``."""
    if poll is None or poll["id"] != poll_id:
        raise Rejected("answer to a poll that is not open")
    if poll["kind"] == "choice" and not (isinstance(answer, int) and answer < len(poll["options"])):
        raise Rejected("answer is not one of the poll's options")
    if poll["kind"] == "locate" and not isinstance(answer, dict):
        raise Rejected("a locate poll is answered with {x, y, frame}")


def results_message(poll: dict, answers) -> dict:
    """Choice polls: a count per option (with the options); locate polls: every point."""
    if poll["kind"] == "choice":
        counts = [0] * len(poll["options"])
        for answer in answers:
            counts[answer] += 1
        # The options travel with the counts: whoever joins after the poll closed can still label the bars.
        return {"type": "results", "poll": poll["id"], "prompt": poll["prompt"], "options": poll["options"],
                "counts": counts}
    return {"type": "results", "poll": poll["id"], "prompt": poll["prompt"], "points": list(answers)}


def queue(questions: list[Question]) -> list[dict]:
    """The Q&A queue as sent: unanswered first, most upvoted first, then oldest first."""
    ordered = sorted(questions, key=lambda q: (q.answered, -(len(q.voters) or q.votes), q.id))
    return [q.entry() for q in ordered]


def shown_results(you: dict, poll: dict | None, last_closed: str | None) -> str | None:
    """Whose results a welcome carries: the presenter's open poll's, else (no poll open) the last closed one's."""
    if poll:
        return poll["id"] if you["role"] == PRESENTER else None
    return last_closed


def welcome_message(you: dict, seq: int, view: dict | None, t: float | None, poll: dict | None,
                    results: dict | None, answer, questions: list[dict], ended: bool) -> dict:
    """What a socket gets on opening (docs/conference-protocol.md); a participant's own answer only."""
    return {"type": "welcome", "you": you, "seq": seq, "view": view, "t": t, "poll": poll, "results": results,
            "answer": None if you["role"] == PRESENTER else answer, "questions": questions, "ended": ended}
