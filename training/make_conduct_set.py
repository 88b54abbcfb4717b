"""Write the conduct contrast set: the same kinds of sentence aimed at a group, a person or an object,
quoted to condemn it, negated and affirmed, with profanity aimed at nobody, and spelled in every way
people disguise words (``make train``, before ``train_conduct.py``).

Every sentence comes from the templates and word lists below, written for emoethics and released
with it (CC0); nothing is taken from a test suite. The output is deterministic (seeded), one JSON
object a line: ``text``, ``kind`` (the template family), ``label`` (1 = harmful), ``category`` (what
the text does: one of ``emoethics.ethics.conduct.CATEGORIES`` or ``none``).

Kinds (harmful): ``derogation``, ``dehumanisation``, ``violence-normalised``, ``threat-direct``,
``threat-normative``, ``threat-unnamed`` (threats at "them", "those people"), ``threat-person``
(threats at the reader or a named person), ``hate-profanity``,
``pronoun-reference``, ``negated-positive``,
``hate-question``, ``hate-opinion``, ``insult-person``, ``harassment``, ``sexual-harassment``,
``self-harm-encouragement``, ``spelling-variants`` (harmful templates disguised).
Kinds (harmless): ``negated-hate``, ``group-neutral``, ``group-positive``, ``counter-quote``,
``counter-reference``, ``profanity-nobody``, ``abuse-object``, ``reclaimed``, ``distress``,
``request-annoyed`` (firm requests and complaints with some annoyance), ``feeling-statement``
(anger or frustration about a situation, aimed at nobody), ``harm-idiom`` (violent words that
threaten nobody: "my back is killing me", "I'll shoot you an email"), ``promise-person`` (the forms
of ``threat-person`` with verbs that threaten nobody: "I will call you and your family").

    python training/make_conduct_set.py        # writes training/data/conduct_contrast.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "training" / "data" / "conduct_contrast.jsonl"
SEED = 23

GROUPS = [
    "women", "trans people", "gay people", "black people", "disabled people", "Muslims", "immigrants",
    "Jews", "refugees", "Asians", "lesbians", "gay men", "Mexicans", "Christians", "Hindus", "old people",
    "Roma", "Arabs", "bisexual people", "trans women", "black women", "Indians", "Africans", "migrants",
    "foreigners", "Chinese people", "Latinos", "Sikhs", "deaf people", "autistic people",
]  # fmt: skip
ONE_OF = {
    "women": "a woman", "trans people": "a trans person", "gay people": "a gay person",
    "black people": "a black person", "disabled people": "a disabled person", "Muslims": "a Muslim",
    "immigrants": "an immigrant", "Jews": "a Jew", "refugees": "a refugee", "Asians": "an Asian",
}  # fmt: skip
NEG_ADJ = [
    "disgusting", "worthless", "pathetic", "filthy", "stupid", "evil", "vile", "repulsive", "useless",
    "inferior", "dangerous", "primitive", "lazy", "dirty", "nasty", "despicable", "brainless", "subhuman",
]  # fmt: skip
POS_ADJ = ["wonderful", "kind", "brilliant", "welcome", "valued", "strong", "talented", "lovely", "great", "brave"]
VERMIN = ["rats", "cockroaches", "vermin", "parasites", "animals", "a plague", "a disease", "pigs", "savages", "trash"]
VERBS_HATE = ["hate", "despise", "can't stand", "loathe", "detest", "am sick of"]
VERBS_LOVE = ["respect", "love", "admire", "like", "value", "trust", "support"]
KILL = ["kill", "shoot", "hang", "burn", "stab", "beat up", "wipe out", "exterminate", "get rid of", "hurt"]
PROFANE = ["fucking", "damn", "bloody", "goddamn", "shitty"]
OBJECTS = [
    "this printer", "my laptop", "this weather", "the traffic", "this app", "my phone", "the bus", "this movie",
    "this song", "the coffee machine", "this chair", "the wifi", "my car", "this game", "the new update",
]  # fmt: skip
INSULTS = ["idiot", "moron", "loser", "piece of shit", "disgrace", "waste of space", "clown", "pig", "freak", "coward"]
UNNAMED = [
    "all of them",
    "them all",
    "those people",
    "all of you",
    "every one of them",
    "these people",
    "the lot of them",
]
PEOPLE = ["you", "my boss", "my neighbour", "that guy", "your brother", "my ex", "the manager", "Tom", "Sarah"]


def _harmful(rng: random.Random) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []

    def add(kind: str, category: str, texts: list[str]) -> None:
        rows.extend((t, kind, category) for t in texts)

    # threats at people left unnamed: a threat needs no group to be one
    for who in UNNAMED:
        add(
            "threat-unnamed",
            "threat",
            [
                f"We are going to put an end to {who}.",
                f"I will {rng.choice(KILL)} {who}.",
                f"{who.capitalize()} will pay for this with blood.",
                f"I'm going to hunt down {who}.",
                f"Soon there will be none of {who} left.",
                f"I hope {who} {rng.choice(['die', 'burn', 'suffer'])}.",
            ],
        )
    for g in GROUPS:
        adj, adj2 = rng.sample(NEG_ADJ, 2)
        verb = rng.choice(VERBS_HATE)
        v = rng.choice(VERMIN)
        k = rng.choice(KILL)
        add(
            "derogation",
            "identity_attack",
            [
                f"I {verb} {g}.",
                f"{g.capitalize()} are {adj}.",
                f"All {g} are {adj} and {adj2}.",
                f"{g.capitalize()} disgust me.",
                f"There is nothing worse than {g}.",
                f"{g.capitalize()} are a blight on this country.",
                f"I really {rng.choice(VERBS_HATE)} {g}, they ruin everything.",
            ],
        )
        add(
            "dehumanisation",
            "identity_attack",
            [
                f"{g.capitalize()} are {v}.",
                f"{g.capitalize()} are nothing but {v}.",
                f"To me {g} are {rng.choice(VERMIN)}, not people.",
                f"{g.capitalize()} are not even human.",
                f"{g.capitalize()} breed like {rng.choice(['rats', 'rabbits', 'insects'])}.",
            ],
        )
        add(
            "violence-normalised",
            "threat",
            [
                f"Beating up {g} is totally fine.",
                f"Anyone who attacks {g} is doing the world a favour.",
                f"It's okay to hurt {g}, they deserve it.",
                f"We should be allowed to shoot {g}.",
            ],
        )
        add(
            "threat-direct",
            "threat",
            [
                f"I am going to {k} all {g}.",
                f"I will {rng.choice(KILL)} every one of those {g}.",
                f"We are going to put an end to all {g}.",
                f"I'm going to make sure {g} suffer.",
                f"I'll find you {g} and I'll {rng.choice(KILL)} you.",
                f"You {g} will pay with your lives.",
                f"Next time I see {g} I will {rng.choice(KILL)} them.",
            ],
        )
        add(
            "threat-normative",
            "threat",
            [
                f"{g.capitalize()} should be {rng.choice(['killed', 'shot', 'hanged', 'burned', 'wiped out'])}.",
                f"All {g} deserve to die.",
                f"{g.capitalize()} should be put down like animals.",
                f"Someone needs to get rid of {g} once and for all.",
                f"The world would be better if {g} were dead.",
                f"Why don't we just get rid of {g} once and for all?",
                f"I would love to see {g} {rng.choice(['suffer', 'burn', 'die', 'in pain'])}.",
                f"I hope all {g} {rng.choice(['die', 'suffer', 'get what they deserve', 'rot'])}.",
            ],
        )
        add(
            "hate-profanity",
            "identity_attack",
            [
                f"{rng.choice(PROFANE).capitalize()} {g} are the worst.",
                f"I fucking hate {g}.",
                f"{g.capitalize()} are shit.",
                f"Fuck all {g}.",
            ],
        )
        add(
            "pronoun-reference",
            "identity_attack",
            [
                f"I met some {g} yesterday. They are {adj}.",
                f"I have never met {g} who weren't {adj}.",
                f"You know {g}? They're all {v}.",
                f"Those {g} again. I wish they would all disappear.",
            ],
        )
        add(
            "negated-positive",
            "identity_attack",
            [
                f"I don't {rng.choice(VERBS_LOVE)} {g} at all.",
                f"{g.capitalize()} are never {rng.choice(POS_ADJ)}.",
                f"No {g} deserve any respect.",
                f"{g.capitalize()} will never be equal to us.",
            ],
        )
        add(
            "hate-question",
            "identity_attack",
            [
                f"Why are {g} so {adj}?",
                f"Why should {g} be allowed to live here?",
                f"Isn't it obvious that {g} are {rng.choice(VERMIN)}?",
                f"Why do {g} always have to be so {adj2}?",
            ],
        )
        add(
            "hate-opinion",
            "identity_attack",
            [
                f"I think {g} are {adj}.",
                f"In my opinion {g} are {rng.choice(VERMIN)}.",
                f"Honestly, I believe {g} are {adj2}.",
                f"I feel like {g} are {adj}.",
            ],
        )
    for p in PEOPLE:
        ins = rng.choice(INSULTS)
        be = "are" if p == "you" else "is"
        add(
            "insult-person",
            "insult",
            [
                f"{p.capitalize()} {be} a {ins}.",
                f"{p.capitalize()} {be} {rng.choice(NEG_ADJ)} and everyone knows it.",
                f"What a {rng.choice(INSULTS)} {'you are' if p == 'you' else p + ' is'}.",
                "You know what you are? Pathetic. An idiot. Worthless.",
                f"Shut up, {rng.choice(INSULTS)}.",
                f"Nobody could stand {'you' if p == 'you' else p}, {rng.choice(INSULTS)}.",
            ],
        )
    add(
        "harassment",
        "harassment",
        [
            "I know where you live and I will keep showing up until you talk to me.",
            "You can block me all you want, I'll find another way to reach you.",
            "I'll keep calling you every night until you answer.",
            "Everyone at school is going to hear what a freak you are.",
            "I'm going to post your address so people know where to find you.",
            "You'll never get rid of me, I'm watching everything you do.",
            "I'm outside your house again. Answer the door.",
            "Keep ignoring me and see what happens.",
        ],
    )
    add(
        "sexual-harassment",
        "sexual_harassment",
        [
            "Send me nudes or I'll tell everyone about you.",
            "I keep thinking about what I'd do to your body, whether you like it or not.",
            "Nice legs, come sit on my lap and I'll give you the promotion.",
            "You dress like that because you want it.",
            "I'd love to get you alone in the office after hours, you can't say no.",
            "Show me what's under that shirt, sweetheart.",
        ],
    )
    add(
        "self-harm-encouragement",
        "self_harm",
        [
            "You should just kill yourself.",
            "Go cut yourself, nobody would care.",
            "Do everyone a favour and end it.",
            "Nobody would miss you if you jumped.",
            "Why don't you just stop eating until you disappear.",
            "Just take all the pills and be done with it.",
        ],
    )
    # threats at the reader or a person: a threat needs no group to be one
    targets = ["you", "you and your family", "your kids", "him", "her", "my boss", "my neighbour", "your wife"]
    made = []
    for t in targets:
        for form in (
            "I will {k} {t}.",
            "I'm going to {k} {t}.",
            "I'll {k} {t} if it's the last thing I do.",
            "I know where you live and I will {k} {t}.",
            "One more word and I'll {k} {t}.",
            "Watch your back, I'm coming to {k} {t}.",
            "Say that again and I'll {k} {t}.",
            "Tomorrow I will find {t} and {k} {o}.",
        ):
            verb = rng.choice(["kill", "hurt", "stab", "shoot", "beat up", "break the legs of", "strangle"])
            obj = {"you": "you", "him": "him", "her": "her"}.get(t, "them")
            made.append(form.format(k=verb, t=t, o=obj))
    made += [
        "You're dead.", "You're a dead man.", "You won't live to see next week.", "I'll make you suffer.",
        "I will end you.", "Sleep with one eye open.", "You'll pay for this with your life.",
        "I'm going to make you regret being born.", "Next time I see you, you're done.",
        "I hope you know I have a gun and your address.",
    ]  # fmt: skip
    add("threat-person", "threat", made)
    # more of the person-directed kinds: each base sentence with a way of addressing the person
    more = {
        ("harassment", "harassment"): [
            "I'll keep messaging you until you reply",
            "I know which bus you take every morning",
            "I'm going to tell your boss everything about you",
            "I've made ten accounts to keep following you",
            "I'll be waiting outside your work again",
            "I'll share your number with everyone online",
            "you can't hide from me, I always find you",
            "I'll make your life hell until you talk to me",
        ],
        ("sexual-harassment", "sexual_harassment"): [
            "send me a picture of you naked",
            "take your top off for me",
            "I want to touch you whether you like it or not",
            "sleep with me if you want that job",
            "I'll only help you if you come to my room tonight",
            "tell me what you're wearing in bed",
            "I've been staring at your body all day, come closer",
            "you owe me a kiss for that lift home",
        ],
        ("self-harm-encouragement", "self_harm"): [
            "nobody would care if you died",
            "the world would be better without you, so end it",
            "you should just jump off a bridge",
            "starve yourself, you don't deserve food",
            "do us all a favour and kill yourself",
            "you're a burden, just end your life",
            "go hurt yourself again, it's all you're good for",
            "you'd be better off dead",
        ],
        ("insult-person", "insult"): [
            "you are a pathetic loser",
            "you're the dumbest person I've ever met",
            "you disgusting little rat",
            "you're a worthless waste of space",
            "nobody likes you, you ugly freak",
            "you're too stupid to live",
            "you are a spineless coward",
            "you're a lying piece of garbage",
        ],
    }
    ways = ["{s}.", "{s}!", "Listen, {s}.", "Hey {n}, {s}.", "{S}. I mean it.", "{n}, {s}."]
    for (kind, category), bases in more.items():
        for base in bases:
            for way in rng.sample(ways, 3):
                text = way.format(s=base, S=base[0].upper() + base[1:], n=rng.choice(["Sam", "Anna", "mate", "babe"]))
                add(kind, category, [text[0].upper() + text[1:]])
    return rows


def _harmless(rng: random.Random) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []

    def add(kind: str, texts: list[str]) -> None:
        rows.extend((t, kind, "none") for t in texts)

    for g in GROUPS:
        adj = rng.choice(NEG_ADJ)
        v = rng.choice(VERMIN)
        k = rng.choice(KILL)
        add(
            "negated-hate",
            [
                f"I don't hate {g}.",
                f"{g.capitalize()} are not {adj}.",
                f"No {g} deserve to be treated like {v}.",
                f"I would never {k} {g}.",
                f"Nobody should ever say that {g} are {adj}.",
                f"It's not true that {g} are {v}.",
            ],
        )
        add(
            "group-neutral",
            [
                f"I had lunch with some {g} from work.",
                f"Many {g} live in this part of the city.",
                f"The report looks at how {g} vote.",
                f"My neighbours are {g}.",
                f"There are {g} in my class.",
                f"{g.capitalize()} make up about a tenth of the town.",
            ],
        )
        add(
            "group-positive",
            [
                f"I {rng.choice(VERBS_LOVE)} {g}.",
                f"{g.capitalize()} are {rng.choice(POS_ADJ)}.",
                f"{g.capitalize()} deserve the same respect as anyone.",
                f"We need more {g} in positions of power.",
                f"So proud of the {g} in our community.",
                f"{g.capitalize()} are welcome here.",
            ],
        )
        add(
            "counter-quote",
            [
                f'If I hear anyone say "{g} are {v}" I will report them.',
                f'"{g.capitalize()} are {adj}" is exactly the kind of thing that must not be said.',
                f'People who write "I {rng.choice(VERBS_HATE)} {g}" will get blocked.',
                f'He said "{g} should be {rng.choice(["killed", "shot", "hanged"])}" and I told him he was wrong.',
                f'Saying "you {g} make me sick" is hate speech, plain and simple.',
                f'Stop posting "{g} are {adj}". It is hateful.',
            ],
        )
        add(
            "counter-reference",
            [
                f"Calling {g} {v} is disgusting.",
                f"Threatening {g} is a crime and it should be reported.",
                f"It is wrong to say that {g} are {adj}.",
                f"I am tired of people spreading hate about {g}.",
                f"Anyone who wants to hurt {g} has no place here.",
                f"Comments that describe {g} as {v} should be removed.",
            ],
        )
    for o in OBJECTS:
        add(
            "abuse-object",
            [
                f"{o.capitalize()} is a worthless piece of junk.",
                f"I hate {o} so much.",
                f"I'm going to smash {o} into pieces.",
                f"{o.capitalize()} is fucking useless.",
                f"{o.capitalize()} should be burned.",
            ],
        )
    add(
        "profanity-nobody",
        [
            "Fuck, I missed the bus again.",
            "Holy shit, that was an amazing concert.",
            "Damn, this cake is good.",
            "What the hell just happened?",
            "I dropped my phone in the toilet, fuck my life.",
            "Shit, I forgot my keys at home.",
            "That game was fucking brilliant.",
            "Oh crap, the meeting started ten minutes ago.",
            "Bloody hell, it's cold today.",
            "I'm so fucking tired after this week.",
            "This is the best damn pizza in town.",
            "Well, shit happens.",
            "Fuck yes, I passed the exam!",
            "Goddamn, that view is beautiful.",
        ],
    )
    add(
        "reclaimed",
        [
            "As a queer woman, I love my queer community.",
            "We're here, we're queer, get used to it.",
            "Proud to be a dyke and nobody can take that from me.",
            "My crip friends and I are organising our own festival.",
            "Us fat girls deserve nice clothes too.",
            "I'm a bitch when I need to be, and I'm proud of it.",
            "Queer folks, this party is for you.",
            "Being a nerd is the best thing that happened to me.",
        ],
    )
    add(
        "distress",
        [
            "I'm so scared I'll lose my flat, I can't sleep.",
            "My dog died this morning and I can't stop crying.",
            "I feel so alone since my divorce.",
            "I'm terrified of the test results tomorrow.",
            "A friend of mine died in a car accident last week.",
            "I hate myself for failing again.",
            "I'm so angry at myself for wasting the whole year.",
            "I can't stop shaking since the break-in.",
            "My mother is in hospital and I'm afraid she won't make it.",
            "Everything feels hopeless since I lost my job.",
            "I'm worried sick about paying rent this month.",
            "I feel like such a failure.",
        ],
    )
    add(
        "request-annoyed",
        [
            "Hey, I noticed the music is getting loud. Can you please keep it down after 11?",
            "I'm a bit annoyed that the report is late again. Could you send it by Friday?",
            "Please stop parking in front of my garage; I need to get out in the morning.",
            "I was frustrated that nobody answered my email. Can someone reply by Monday?",
            "Could you please clean up the kitchen after using it? It's the third time this week.",
            "I'm disappointed with the repair. Please send someone to fix it properly.",
            "Your dog barks all night. Could you keep it inside after 10?",
            "I'd appreciate it if you returned my drill this weekend.",
        ],
    )
    # firm requests and complaints with some annoyance: openers x asks x feelings, sampled
    openers = [
        "Hi,", "Hey,", "Hello there,", "Dear neighbour,", "Good morning,", "Sorry to bother you, but",
        "Just a quick note:", "Hi again,", "Excuse me,", "Hi team,", "",
    ]  # fmt: skip
    asks = [
        "could you turn the volume down in the evenings?", "can you please stop leaving bags in the hallway?",
        "would you mind moving your bike off the stairs?", "please reply to my message about the deposit.",
        "can you fix the broken light in the entrance this week?", "could you let me know when the parcel will come?",
        "please don't block the gate with your van.", "can we agree on a quiet time after 10?",
        "could you pay your share of the gas bill by the 5th?", "please send me the invoice again.",
        "can you check why my order is late?", "would you please close the door quietly at night?",
        "could you return the ladder you borrowed?", "please tell me why my refund was refused.",
        "can you take the bins out on Tuesday?", "could you send the minutes before the next meeting?",
    ]  # fmt: skip
    feelings = [
        "I'm a bit annoyed.", "I'm getting frustrated.", "This is really irritating.", "I'm quite upset about it.",
        "Honestly, I'm fed up.", "It's driving me crazy.", "I'm disappointed.", "This is the third time.",
        "", "Thanks.", "It's annoying, to be honest.", "I'm not happy about it.",
    ]  # fmt: skip
    made = set()
    while len(made) < 160:
        o, a, f = rng.choice(openers), rng.choice(asks), rng.choice(feelings)
        ask = a[0].upper() + a[1:] if not o or o.endswith(":") else a
        made.add(" ".join(x for x in (o, ask, f) if x))
    add("request-annoyed", sorted(made))
    add("feeling-statement", [f for f in feelings if f] + [
        "I'm feeling a bit annoyed.", "I'm a little irritated.", "I'm feeling quite frustrated.",
        "I'm angry about it.", "That really annoyed me.", "I'm so done with this week.",
    ])  # fmt: skip
    add(
        "feeling-statement",
        [
            f"I'm {how} {why}."
            for how in ("so annoyed", "really angry", "furious", "fed up", "so frustrated", "disgusted")
            for why in (
                "that my flight was cancelled",
                "about the delays",
                "with how long this is taking",
                "that I missed the train",
                "about the rent going up",
                "that my bike was stolen",
                "with myself",
                "about the election result",
                "that the shop was closed",
                "about the noise",
            )
        ],
    )
    # the forms of the threats at a person, with verbs that threaten nobody: a promise is no threat
    targets = ["you", "you and your family", "your kids", "him", "her", "my boss", "my neighbour", "your wife"]
    promises = []
    for t in targets:
        for form in (
            "I will {k} {t}.",
            "I'm going to {k} {t}.",
            "I'll {k} {t} if it's the last thing I do.",
            "I know where you live and I will {k} {t} on Sunday.",
            "One more week and I'll {k} {t}.",
            "Tomorrow I will find {t} and {k} {o}.",
        ):
            verb = rng.choice(["call", "visit", "help", "thank", "meet", "pay", "drive", "cook for", "write to"])
            obj = {"you": "you", "him": "him", "her": "her"}.get(t, "them")
            promises.append(form.format(k=verb, t=t, o=obj))
    promises += [
        "I'll pay the rent next week.", "I don't know how I'll pay rent this month.", "I'll find a way somehow.",
        "I will get through this.", "I'm going to call my sister tonight.", "I'll see you at nine.",
    ]  # fmt: skip
    add("promise-person", promises)
    # violent words that threaten nobody: idioms, warnings, games, objects, bugs
    add(
        "harm-idiom",
        [
            "My back is killing me today.",
            "I'd kill for a coffee right now.",
            "This injection will hurt a little.",
            "Careful, the stove will burn you.",
            "You'll hurt yourself if you lift that alone.",
            "We killed it at the presentation.",
            "I'm going to beat you at chess tonight.",
            "I will kill this bug before the release.",
            "Let's shoot for Friday.",
            "That joke killed me.",
            "I'll hunt down that typo.",
            "The heat is going to kill the tomatoes.",
            "Kill the process and restart it.",
            "These shoes are killing my feet.",
            "I'm going to crush this exam.",
            "The dentist said it won't hurt.",
            "I'll murder that pizza.",
            "Don't worry, the vaccine only hurts for a second.",
            "I will destroy you at tennis, just wait.",
            "You'll get burned if you touch the pan.",
            "The villain threatens to kill the hero in the second act.",
            "My legs are dead after that run.",
            "I could strangle this printer.",
            "The frost will kill the flowers tonight.",
            "If you don't save your work, the crash will kill it.",
            "I'll shoot you an email tomorrow.",
        ],  # fmt: skip
    )
    return rows


LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def disguise(text: str, rng: random.Random) -> tuple[str, str]:
    """``text`` with one of its longer words disguised the way people dodge filters, and how."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 4]
    if not long:
        return text, "none"
    i = rng.choice(long)
    w = words[i]
    how = rng.choice(["swap", "drop", "space", "join", "leet", "repeat"])
    letters = [j for j, c in enumerate(w) if c.isalpha()]
    if how == "swap" and len(letters) >= 3:
        j = rng.choice(letters[1:-1])
        w = w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
    elif how == "drop":
        j = rng.choice(letters[1:])
        w = w[:j] + w[j + 1 :]
    elif how == "space":
        w = " ".join(w)
    elif how == "join" and i + 1 < len(words):
        words[i : i + 2] = [w + words[i + 1]]
        return " ".join(words), how
    elif how == "leet":
        w = "".join(LEET.get(c, c) if c.lower() in LEET and rng.random() < 0.7 else c for c in w)
    else:
        how = "repeat"
        j = rng.choice(letters)
        w = w[:j] + w[j] * 3 + w[j + 1 :]
    words[i] = w
    return " ".join(words), how


def build() -> list[dict]:
    rng = random.Random(SEED)
    harmful = _harmful(rng)
    rows = [{"text": t, "kind": k, "label": 1, "category": c} for t, k, c in harmful]
    rows += [{"text": t, "kind": k, "label": 0, "category": "none"} for t, k, _ in _harmless(rng)]
    for t, _, c in rng.sample(harmful, len(harmful) // 2):
        text, how = disguise(t, rng)
        if how != "none" and text != t:
            rows.append({"text": text, "kind": "spelling-variants", "label": 1, "category": c, "variant": how})
    seen: set[str] = set()
    out = []
    for r in rows:
        if r["text"] not in seen:
            seen.add(r["text"])
            out.append(r)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, default=OUT)
    args = ap.parse_args()
    rows = build()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    print(f"{len(rows)} rows -> {args.out}: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()
