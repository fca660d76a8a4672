"""Who may speak in a conference, and who listens: the voice state of one room, with no I/O.

The server alone decides who is heard: everyone joins the AudioBridge muted, the
presenter's microphone opens only when the presenter says so, and a participant is heard
only while holding the floor the presenter gave them. :class:`Floor` says which Janus
participants must be muted or unmuted after each decision; :mod:`.voice` does it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_HANDS = 200  # raised hands listed at once: the presenter's list stays readable


@dataclass
class Floor:
    """Raised hands (oldest first), the one participant holding the floor, the presenter's microphone,
    and who is listening (their voice connection is up)."""

    hands: dict[int, str] = field(default_factory=dict)  # participant id -> display name
    holder: int | None = None
    mic: bool = False
    listening: dict[object, int | None] = field(default_factory=dict)  # connection key -> participant (None: presenter)

    def raise_hand(self, participant: int, name: str, value: bool) -> bool:
        """True when the list changed."""
        if not value:
            return self.hands.pop(participant, None) is not None
        if participant in self.hands or participant == self.holder or len(self.hands) >= MAX_HANDS:
            return False
        self.hands[participant] = name
        return True

    def give(self, participant: int) -> int | None:
        """``participant`` holds the floor now; returns whoever held it before (to be muted), or None."""
        before = self.holder if self.holder != participant else None
        self.holder = participant
        self.hands.pop(participant, None)
        return before

    def take_back(self, participant: int) -> bool:
        if self.holder != participant:
            return False
        self.holder = None
        return True

    def mute_all(self) -> int | None:
        """Everyone silent: the presenter's microphone closed, the floor taken back; returns its holder."""
        holder, self.holder, self.mic = self.holder, None, False
        return holder

    def may_speak(self, participant: int | None) -> bool:
        """Whether a connection of ``participant`` (None: the presenter) should be unmuted."""
        return self.mic if participant is None else participant == self.holder

    def state(self, available: bool) -> dict:
        """The presenter's ``voice_state`` message."""
        listeners = sorted({p for p in self.listening.values() if p is not None})
        return {"type": "voice_state", "available": available, "mic": self.mic, "floor": self.holder,
                "hands": [{"id": p, "name": name} for p, name in self.hands.items()], "listening": listeners}
