"""Whom a text addresses and whether it attacks them: the evidence behind a negative behaviour reading.

Behaviour is what a text does to its addressee, not how its author feels. A letter that says
"I feel so hopeless since I lost my job" is sad, but it treats nobody badly; "You are a disgrace"
is hostile. The emotion-mediated reading (:mod:`.signatures`) sees only the emotions, so the judge
lets a negative reading stand only with evidence that someone is at the receiving end
(:func:`read_address`):

- *a threat* (:data:`THREATS`);
- *an addressee or a third party* (second- or third-person words) together with an insult or curse
  (:data:`INSULTS`; without anyone to aim at, "I feel so stupid" is about the author) or with
  *outward* negative emotion (anger or disgust, which point at someone) rather than the inward
  kind (sadness, fear, which are about the author's own situation);

and the judge adds the moral evidence it has (the judge model's violations or "wrong", the
moral head's P(wrong)). The word lists were written for emoethics; they are a floor, not a
classifier: the moral readings catch what they miss.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from ..schema.profile import EmotionProfile

SECOND_PERSON = re.compile(r"\b(you|your|yours|yourself|yourselves|u|ur|ya|thee|thou)\b", re.I)
THIRD_PERSON = re.compile(
    r"\b(he|she|him|her|his|hers|himself|herself|they|them|their|theirs|"
    r"everyone|everybody|people|guys)\b",
    re.I,
)

#: Insults and curses; each also matches with a plural or adjective suffix (-s, -es, -y).
INSULTS = (
    "idiot",
    "stupid",
    "moron",
    "imbecile",
    "cretin",
    "dumb",
    "dumbass",
    "loser",
    "pathetic",
    "worthless",
    "useless",
    "disgrace",
    "disgusting",
    "scum",
    "bitch",
    "bastard",
    "asshole",
    "arsehole",
    "jerk",
    "fool",
    "incompetent",
    "liar",
    "coward",
    "trash",
    "garbage",
    "pig",
    "freak",
    "creep",
    "ugly",
    "retard",
    "clown",
    "parasite",
    "vermin",
    "slut",
    "whore",
    "prick",
    "dick",
    "twat",
    "cunt",
    "wanker",
    "shit",
    "shithead",
    "fuck",
    "fucking",
    "fucker",
    "damn",
    "hate you",
    "hate him",
    "hate her",
    "hate them",
    "shut up",
    "screw you",
    "go to hell",
    "get lost",
    "nobody likes you",
    "piece of work",
    "sick of you",
    "ashamed of you",
    "despise",
    "contempt",
    "spineless",
    "lazy",
    "selfish",
    "ungrateful",
    "hypocrite",
    "waste of space",
    "waste of time",
    "waste of money",
    "waste of air",
    "brat",
    "scumbag",
    "thief",
    "you're a joke",
    "nobody cares",
    "nobody wants you",
    "good riddance",
    "disgust me",
    "make me sick",
    "terrible person",
    "deserve to be kicked",
    "get out of my sight",
)
#: Threat phrases (regular expressions).
THREATS = (
    r"\b(i'?ll|i will|i'?m going to|i am going to|gonna|we'?ll|we will)\s+(\w+\s+){0,2}"
    r"(kill|hurt|destroy|ruin|end|beat|punch|find|get|make\s+\w+\s+pay|expose|report)\b",
    r"\byou(\s+will|'ll|\s+are going to)\s+(regret|pay|be sorry|suffer)\b",
    r"\b(hope|wish)\s+(you|he|she|they)\s+(\w+\s+){0,2}(die|dies|died|rot|rots|suffer|suffers|dead)\b",
    r"\bwatch your back\b",
    r"\bor else\b",
    r"\byou deserve to (die|suffer|be hurt)\b",
    r"\bkill (you|him|her|them|yourself)\b",
    r"\bi know where (you|he|she|they) li?ves?\b",
    r"\bsee what happens\b",
    r"\bshow up at (your|his|her|their)\b",
    r"\bmake (you|him|her|them) regret\b",
)
_INSULT = re.compile(r"\b(" + "|".join(re.escape(w) for w in INSULTS) + r")(s|es|y)?\b", re.I)
_THREAT = re.compile("|".join(f"(?:{t})" for t in THREATS), re.I)
#: How strong anger or disgust must be to count as pointed at someone.
OUTWARD = 0.3
#: How strong sadness or fear must be for a text that aims at nobody to count as distressed.
DISTRESS = 0.5


class AddressReading(BaseModel):
    """Who a text addresses and whether it attacks them."""

    addressee: bool = Field(description="The text speaks to someone (second person).")
    third_party: bool = Field(description="The text speaks about other people (third person).")
    insults: list[str] = Field(description="Insults and curses found.")
    threats: list[str] = Field(description="Threats found.")
    outward: float = Field(description="Anger or disgust in the profile, 0..1 (emotion pointed at someone).")
    inward: float = Field(description="Sadness or fear in the profile, 0..1 (the author's own feelings).")

    @property
    def targets_someone(self) -> bool:
        """Evidence that the text's negative emotion is aimed at a person."""
        someone = self.addressee or self.third_party
        return bool(self.threats) or (someone and (bool(self.insults) or self.outward >= OUTWARD))

    @property
    def distressed(self) -> bool:
        """The text voices its author's own sadness or fear and aims at nobody."""
        return self.inward >= DISTRESS and self.outward < OUTWARD and not self.targets_someone

    def describe(self) -> str:
        """A short phrase for a verdict's reasons."""
        who = "the addressee" if self.addressee else "a third party" if self.third_party else "nobody"
        words = self.threats + (self.insults if self.addressee or self.third_party else [])
        found = ("; " + ", ".join(f"'{w}'" for w in words[:3])) if words else ""
        return f"speaks to or of {who}{found}; anger/disgust {self.outward:.2f}, sadness/fear {self.inward:.2f}"


def _strength(profile: EmotionProfile, emotion: str) -> float:
    """How strongly ``profile`` shows ``emotion`` (0..1): its probability where the analyser gives
    one, else the intensity of the spectrum reading on that emotion's side."""
    if profile.emotions and emotion in profile.emotions:
        return float(profile.emotions[emotion])
    for r in profile.readings:
        if r.negative == emotion and r.intensity < 0:
            return float(-r.intensity)
        if r.positive == emotion and r.intensity > 0:
            return float(r.intensity)
    return 0.0


def read_address(text: str, profile: EmotionProfile) -> AddressReading:
    """Whom ``text`` addresses, whether it attacks anyone, and which way its negative emotion points."""
    return AddressReading(
        addressee=bool(SECOND_PERSON.search(text)),
        third_party=bool(THIRD_PERSON.search(text)),
        insults=list(dict.fromkeys(m.group(0).lower() for m in _INSULT.finditer(text))),
        threats=list(dict.fromkeys(m.group(0).lower() for m in _THREAT.finditer(text))),
        outward=round(max(_strength(profile, "anger"), _strength(profile, "disgust")), 3),
        inward=round(max(_strength(profile, "sadness"), _strength(profile, "fear")), 3),
    )
